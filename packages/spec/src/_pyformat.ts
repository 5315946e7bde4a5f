// Python `str.format(**kwargs)` for string arguments (enough for flytekit's `tag_format.format(spec_hash=...)`).
import { pyStrRepr } from './pyrepr.js'

/** A Python exception raised by `str.format`, e.g. `KeyError: 'x'`. */
export class PyFormatError extends Error {
  constructor(
    readonly pyType: 'KeyError' | 'IndexError' | 'ValueError' | 'TypeError' | 'AttributeError',
    readonly pyMessage: string,
  ) {
    super(`${pyType}: ${pyMessage}`)
  }
}

const cps = (s: string) => Array.from(s)

function formatStr(value: string, spec: string): string {
  const m = /^(?:(.)?([<>=^]))?([-+ ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?(.)?$/su.exec(spec)
  if (!m) throw new PyFormatError('ValueError', 'Invalid format specifier')
  const [, fillIn, alignIn, sign, , alt, zero, width, grouping, precision, type] = m
  if (type !== undefined && type !== 's')
    throw new PyFormatError('ValueError', `Unknown format code '${type}' for object of type 'str'`)
  if (sign) throw new PyFormatError('ValueError', 'Sign not allowed in string format specifier')
  if (alt)
    throw new PyFormatError(
      'ValueError',
      'Alternate form (#) not allowed in string format specifier',
    )
  if (grouping) throw new PyFormatError('ValueError', `Cannot specify '${grouping}' with 's'.`)
  if (alignIn === '=')
    throw new PyFormatError('ValueError', "'=' alignment not allowed in string format specifier")
  const fill = fillIn ?? (zero && !alignIn ? '0' : ' ')
  const align = alignIn ?? '<'
  let chars = cps(value)
  if (precision !== undefined) chars = chars.slice(0, Number(precision))
  const pad = Math.max(0, Number(width ?? 0) - chars.length)
  const left = align === '>' ? pad : align === '^' ? Math.floor(pad / 2) : 0
  return fill.repeat(left) + chars.join('') + fill.repeat(pad - left)
}

function lookup(field: string, kwargs: Readonly<Record<string, string>>): string {
  const m = /^([^.[]*)(.*)$/su.exec(field)!
  const [, name, rest] = m
  if (name === '' || /^\d+$/.test(name))
    throw new PyFormatError(
      'IndexError',
      `Replacement index ${name || 0} out of range for positional args tuple`,
    )
  if (!Object.hasOwn(kwargs, name)) throw new PyFormatError('KeyError', pyStrRepr(name))
  let value = kwargs[name]
  const accessRe = /\.([^.[]+)|\[([^\]]+)\]/gsy
  let pos = 0
  while (pos < rest.length) {
    accessRe.lastIndex = pos
    const a = accessRe.exec(rest)
    if (!a)
      throw new PyFormatError(
        'ValueError',
        "Only '.' or '[' may follow ']' in format field specifier",
      )
    pos = accessRe.lastIndex
    if (a[1] !== undefined)
      throw new PyFormatError('AttributeError', `'str' object has no attribute ${pyStrRepr(a[1])}`)
    if (!/^\d+$/.test(a[2]))
      throw new PyFormatError('TypeError', "string indices must be integers, not 'str'")
    const ch = cps(value)[Number(a[2])]
    if (ch === undefined) throw new PyFormatError('IndexError', 'string index out of range')
    value = ch
  }
  return value
}

function ascii(s: string): string {
  return pyStrRepr(s).replace(/[^\x00-\x7f]/gu, (ch) => {
    const cp = ch.codePointAt(0)!
    return cp <= 0xff
      ? `\\x${cp.toString(16).padStart(2, '0')}`
      : cp <= 0xffff
        ? `\\u${cp.toString(16).padStart(4, '0')}`
        : `\\U${cp.toString(16).padStart(8, '0')}`
  })
}

function render(template: string, kwargs: Readonly<Record<string, string>>, depth: number): string {
  if (depth < 0) throw new PyFormatError('ValueError', 'Max string recursion exceeded')
  let out = ''
  let i = 0
  while (i < template.length) {
    const c = template[i]
    if (c === '}') {
      if (template[i + 1] !== '}')
        throw new PyFormatError('ValueError', "Single '}' encountered in format string")
      out += '}'
      i += 2
      continue
    }
    if (c !== '{') {
      out += c
      i++
      continue
    }
    if (template[i + 1] === '{') {
      out += '{'
      i += 2
      continue
    }
    // A replacement field: find its closing brace, counting nested braces of the format spec.
    let level = 1
    let j = i + 1
    for (; j < template.length && level > 0; j++) {
      if (template[j] === '{') level++
      else if (template[j] === '}') level--
    }
    if (level > 0) throw new PyFormatError('ValueError', "expected '}' before end of string")
    const body = template.slice(i + 1, j - 1)
    i = j
    const fm = /^([^!:]*)(?:!([^:]?)([^:]*))?(?::(.*))?$/su.exec(body)!
    const [, field, conv, convRest, spec] = fm
    if (conv !== undefined && (conv === '' || convRest !== ''))
      throw new PyFormatError(
        'ValueError',
        conv === ''
          ? 'end of string while looking for conversion specifier'
          : "expected ':' after conversion specifier",
      )
    let value = lookup(field, kwargs)
    if (conv === 'r') value = pyStrRepr(value)
    else if (conv === 'a') value = ascii(value)
    else if (conv !== undefined && conv !== 's')
      throw new PyFormatError('ValueError', `Unknown conversion specifier ${conv}`)
    out += formatStr(value, spec === undefined ? '' : render(spec, kwargs, depth - 1))
  }
  return out
}

/** `template.format(**kwargs)` with Python semantics for str arguments; throws PyFormatError like Python would. */
export function pyFormat(template: string, kwargs: Readonly<Record<string, string>>): string {
  return render(template, kwargs, 2)
}
