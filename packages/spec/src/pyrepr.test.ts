import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PyEnum, PyTuple, pyFloatRepr, pyRepr, pyStr, pyStrRepr } from './pyrepr.js'
import { PyFloat } from './types.js'

describe('pyRepr', () => {
  it('encodes containers like Python str(dict)', () => {
    expect(pyStr({ a: [1, 'x', null, true], b: {} })).toBe("{'a': [1, 'x', None, True], 'b': {}}")
    expect(pyRepr([])).toBe('[]')
    expect(pyRepr(new PyTuple(['a']))).toBe("('a',)")
    expect(pyRepr(new PyTuple(['a', 'b']))).toBe("('a', 'b')")
    expect(pyRepr(new PyTuple([]))).toBe('()')
    expect(pyRepr(new PyEnum('CopyFileDetection', 'ALL', 2))).toBe('<CopyFileDetection.ALL: 2>')
    expect(pyStr(new PyEnum('CopyFileDetection', 'ALL', 2))).toBe('CopyFileDetection.ALL')
    expect(pyStr('a\tb')).toBe('a\tb')
  })

  it('quotes strings as Python does (vector 25)', () => {
    expect(
      pyRepr(["bar; python_version<'3.12'", 'baz @ file:///C:\\x', 'q"uo\'te', 'héllo', 'a\tb']),
    ).toBe(`["bar; python_version<'3.12'", 'baz @ file:///C:\\\\x', 'q"uo\\'te', 'héllo', 'a\\tb']`)
    expect(pyStrRepr('\x00\x1f\x7f\x80\xa0\xad')).toBe("'\\x00\\x1f\\x7f\\x80\\xa0\\xad'")
    expect(pyStrRepr('\u2028\u200b\ue000\u{10ffff}\u{1f600}')).toBe(
      "'\\u2028\\u200b\\ue000\\U0010ffff\u{1f600}'",
    )
    expect(pyStrRepr('\u3000 ')).toBe("'\\u3000 '")
    expect(pyStrRepr('\udc80')).toBe("'\\udc80'")
  })

  it('writes floats like Python repr', () => {
    const cases: [number, string][] = [
      [3.1, '3.1'],
      [3.9, '3.9'],
      [3, '3.0'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [1e16, '1e+16'],
      [1e15, '1000000000000000.0'],
      [1.5e16, '1.5e+16'],
      [123.456, '123.456'],
      [-0, '-0.0'],
      [0.1 + 0.2, '0.30000000000000004'],
      [Infinity, 'inf'],
      [-Infinity, '-inf'],
      [NaN, 'nan'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
    ]
    for (const [x, s] of cases) expect(pyFloatRepr(x)).toBe(s)
    expect(pyRepr(new PyFloat(3))).toBe('3.0')
    expect(pyRepr(3)).toBe('3')
    expect(pyRepr(2.5)).toBe('2.5')
    expect(pyRepr(1e21)).toBe('1000000000000000000000')
  })
})

describe('pyRepr properties (§3.4)', () => {
  const str = fc.string({ unit: 'binary' })

  it('wraps in double quotes exactly when there is a single quote and no double quote', () => {
    fc.assert(
      fc.property(str, (s) => {
        const r = pyStrRepr(s)
        const dq = s.includes("'") && !s.includes('"')
        expect(r[0]).toBe(dq ? '"' : "'")
        expect(r.at(-1)).toBe(r[0])
      }),
    )
  })

  it('leaves no raw control, separator (but space) or format character', () => {
    fc.assert(
      fc.property(str, (s) => {
        expect(pyStrRepr(s).slice(1, -1)).not.toMatch(/(?! )[\p{C}\p{Z}]/u)
      }),
    )
  })

  it('keeps printable characters and is decodable back to the original string', () => {
    const unescape = (r: string) =>
      r
        .slice(1, -1)
        .replace(/\\(x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|[\\'"tnr])/g, (_, e: string) => {
          if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16))
          return ({ t: '\t', n: '\n', r: '\r' } as Record<string, string>)[e] ?? e
        })
    fc.assert(
      fc.property(str, (s) => {
        expect(unescape(pyStrRepr(s))).toBe(s)
      }),
    )
  })

  it('round-trips floats through their repr', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const r = pyFloatRepr(x)
        expect(Number(r)).toBe(x)
        expect(r).toMatch(/^-?(\d+\.\d+|\d(\.\d+)?e[-+]\d{2,3})$/)
      }),
    )
  })

  it('joins dict items with ", " and ": "', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string()), (d) => {
        const inner = Object.entries(d).map(([k, v]) => `${pyStrRepr(k)}: ${pyStrRepr(v)}`)
        expect(pyRepr(d)).toBe(`{${inner.join(', ')}}`)
      }),
    )
  })
})
