const SAFE = /^[A-Za-z0-9_\-.,:/@%+=]+$/

/** One shell word: as-is when it holds no special character, else single-quoted (POSIX `'\''` for quotes). */
export function shellQuote(value: string): string {
  return SAFE.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}
