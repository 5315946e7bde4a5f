const SAFE_WORD = /^[A-Za-z0-9_\-.,:/@%+=]+$/

/** One shell word: as-is when it holds no special character, else single-quoted (POSIX `'\''` for quotes). */
export function shellQuote(value: string): string {
  return SAFE_WORD.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

/**
 * `KEY=value` for an ENV instruction. flytekit writes values raw; a value with whitespace, a quote or a backslash
 * is double-quoted here (`KEY="two words"`), so it means what the user wrote. `$` keeps Docker's substitution.
 */
export function envPair(key: string, value: string): string {
  return /[\s"'\\]/.test(value) ? `${key}="${value.replace(/["\\]/g, '\\$&')}"` : `${key}=${value}`
}

/** Python's `json.dumps(list)`: `", "` separators and `ensure_ascii` (non-ASCII and DEL as `\uXXXX`). */
export function pyJsonList(items: readonly string[]): string {
  const ascii = (s: string) =>
    JSON.stringify(s).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
  return `[${items.map(ascii).join(', ')}]`
}

/** A COPY instruction's arguments: plain when every path is a plain word, else Docker's JSON form. */
export function copyArgs(paths: readonly string[]): string {
  return paths.every((p) => /^[^\s"'\\[$]+$/.test(p)) ? paths.join(' ') : pyJsonList(paths)
}
