// Python's str()/repr() for the values that appear in flytekit's hash pre-images (CPython 3.11 rules).
import { dictEntries } from './dict.js'
import { PyFloat } from './types.js'
import type { PyValue } from './types.js'

/** A Python tuple: `(a, b)`, and `(a,)` for one item. */
export class PyTuple {
  readonly items: readonly PyReprValue[]
  constructor(items: readonly PyReprValue[]) {
    this.items = items
  }
}

/** A Python enum member, e.g. `<CopyFileDetection.ALL: 2>` (repr) / `CopyFileDetection.ALL` (str). */
export class PyEnum {
  constructor(
    readonly className: string,
    readonly member: string,
    readonly value: number,
  ) {}
}

/** Everything `pyRepr`/`pyStr` can encode. Plain JS numbers are ints when integral, floats otherwise. */
export type PyReprValue =
  | PyValue
  | PyTuple
  | PyEnum
  | undefined
  | readonly PyReprValue[]
  | { readonly [k: string]: PyReprValue }

// str.isprintable(): everything except the categories Other (C*) and Separator (Z*), but ' ' is printable.
const NON_PRINTABLE = /[\p{C}\p{Z}]/u

function hex(cp: number, width: number): string {
  return cp.toString(16).padStart(width, '0')
}

/** `repr(s)` of a Python str. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    if (ch === quote || ch === '\\') out += '\\' + ch
    else if (ch === '\t') out += '\\t'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2)
    else if (cp < 0x7f) out += ch
    else if (!NON_PRINTABLE.test(ch)) out += ch
    else if (cp <= 0xff) out += '\\x' + hex(cp, 2)
    else if (cp <= 0xffff) out += '\\u' + hex(cp, 4)
    else out += '\\U' + hex(cp, 8)
  }
  return out + quote
}

/** `repr(x)` of a Python float: the shortest round-trip digits, Python's layout (`3.0`, `1e-05`, `1e+16`). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan'
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf'
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'
  const sign = x < 0 ? '-' : ''
  // toExponential() without an argument yields the shortest digits that round-trip.
  const [mant, expStr] = Math.abs(x).toExponential().split('e')
  const digits = mant.replace('.', '')
  const decpt = Number(expStr) + 1 // position of the decimal point relative to the digits
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`
    if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`
    return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`
  }
  const e = decpt - 1
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
  return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`
}

/** Python `repr(value)`. */
export function pyRepr(value: PyReprValue): string {
  if (value === null || value === undefined) return 'None'
  if (typeof value === 'string') return pyStrRepr(value)
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  if (typeof value === 'number')
    return Number.isInteger(value) ? BigInt(value).toString() : pyFloatRepr(value)
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof PyFloat) return pyFloatRepr(value.value)
  if (value instanceof PyEnum) return `<${value.className}.${value.member}: ${value.value}>`
  if (value instanceof PyTuple)
    return value.items.length === 1
      ? `(${pyRepr(value.items[0])},)`
      : `(${value.items.map(pyRepr).join(', ')})`
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`
  // Dicts in the author's key order, each key with its Python type (see dict.ts).
  const entries = dictEntries(value as { readonly [k: string]: PyReprValue })
  return `{${entries.map(([, v, key]) => `${pyRepr(key)}: ${pyRepr(v)}`).join(', ')}}`
}

/** Python `str(value)`: a str is itself, an enum member is `Class.MEMBER`, anything else is its repr. */
export function pyStr(value: PyReprValue): string {
  if (typeof value === 'string') return value
  if (value instanceof PyEnum) return `${value.className}.${value.member}`
  return pyRepr(value)
}
