// Python string literals: prefixes, quotes and backslash escapes, as the Python tokenizer reads them.

/** A literal's prefix (lower-cased) and its body without quotes. */
export interface StringToken {
  prefix: string
  body: string
}

/** Splits `rb'''x'''` into prefix `rb` and body `x`. */
export function splitStringToken(text: string): StringToken {
  const m = /^([A-Za-z]*)('''|"""|'|")/.exec(text)
  if (!m) throw new Error(`not a string literal: ${text}`)
  const quote = m[2]
  const end =
    text.endsWith(quote) && text.length >= m[0].length + quote.length
      ? text.length - quote.length
      : text.length
  return { prefix: m[1].toLowerCase(), body: text.slice(m[0].length, end) }
}

const SIMPLE: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\n': '',
}

/**
 * Decodes the backslash escapes of a non-raw str literal. `\N{...}` needs Unicode's name table and is refused
 * (returns undefined); an unknown escape keeps its backslash, as Python does.
 */
export function decodeEscapes(body: string): string | undefined {
  if (!body.includes('\\')) return body
  let out = ''
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]
    if (ch !== '\\') {
      out += ch
      continue
    }
    const next = body[i + 1]
    if (next === undefined) return out + '\\'
    if (next === '\r') {
      i += body[i + 2] === '\n' ? 2 : 1
      continue
    }
    if (next in SIMPLE) {
      out += SIMPLE[next]
      i++
      continue
    }
    if (/[0-7]/.test(next)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i + 1))![0]
      out += String.fromCodePoint(parseInt(m, 8))
      i += m.length
      continue
    }
    const hex = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0
    if (hex) {
      const digits = body.slice(i + 2, i + 2 + hex)
      if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) return undefined
      const cp = parseInt(digits, 16)
      if (cp > 0x10ffff) return undefined
      out += String.fromCodePoint(cp)
      i += 1 + hex
      continue
    }
    if (next === 'N') return undefined
    out += '\\' + next
    i++
  }
  return out
}
