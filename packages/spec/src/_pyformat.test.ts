import { describe, expect, it } from 'vitest'
import { pyFormat } from './_pyformat.js'

const f = (t: string) => pyFormat(t, { spec_hash: 'C1ehKmkCvU6Flaum2jGBiw' })

describe('pyFormat (Python str.format)', () => {
  it('substitutes spec_hash with literal braces and format specs', () => {
    expect(f('{spec_hash}-dev')).toBe('C1ehKmkCvU6Flaum2jGBiw-dev')
    expect(f('{{x}}-{spec_hash:.8}')).toBe('{x}-C1ehKmkC')
    expect(f('{spec_hash:>30}')).toBe(`${' '.repeat(8)}C1ehKmkCvU6Flaum2jGBiw`)
    expect(f('{spec_hash:*^26}')).toBe('**C1ehKmkCvU6Flaum2jGBiw**')
    expect(f('{spec_hash:_<24.4}')).toBe(`C1eh${'_'.repeat(20)}`)
    expect(f('{spec_hash:025}')).toBe('C1ehKmkCvU6Flaum2jGBiw000')
    expect(f('{spec_hash!r}')).toBe("'C1ehKmkCvU6Flaum2jGBiw'")
    expect(f('{spec_hash[0]}{spec_hash:{spec_hash[1]}>4.1}')).toBe('C111C')
    expect(f('v{spec_hash:s}}}')).toBe('vC1ehKmkCvU6Flaum2jGBiw}')
  })

  it('raises what Python raises', () => {
    expect(() => f('{other}')).toThrow("KeyError: 'other'")
    expect(() => f('{}')).toThrow(
      'IndexError: Replacement index 0 out of range for positional args tuple',
    )
    expect(() => f('{0}')).toThrow('IndexError')
    expect(() => f('x}')).toThrow("ValueError: Single '}' encountered in format string")
    expect(() => f('{spec_hash')).toThrow("ValueError: expected '}' before end of string")
    expect(() => f('{spec_hash:d}')).toThrow(
      "ValueError: Unknown format code 'd' for object of type 'str'",
    )
    expect(() => f('{spec_hash:+}')).toThrow('Sign not allowed in string format specifier')
    expect(() => f('{spec_hash:=10}')).toThrow("'=' alignment not allowed")
    expect(() => f('{spec_hash!x}')).toThrow('Unknown conversion specifier x')
    expect(() => f('{spec_hash.upper}')).toThrow('AttributeError')
  })
})
