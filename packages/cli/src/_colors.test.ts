import { describe, expect, it } from 'vitest'
import { colorsEnabled, createColors } from './_colors.js'

describe('colorsEnabled', () => {
  it('follows the stream, not CI', () => {
    expect(colorsEnabled({ write() {}, isTTY: false }, { CI: 'true' })).toBe(false)
    expect(colorsEnabled({ write() {}, isTTY: true }, {})).toBe(true)
  })
  it('honours NO_COLOR, TERM=dumb and FORCE_COLOR', () => {
    expect(colorsEnabled({ write() {}, isTTY: true }, { NO_COLOR: '' })).toBe(false)
    expect(colorsEnabled({ write() {}, isTTY: true }, { TERM: 'dumb' })).toBe(false)
    expect(colorsEnabled({ write() {}, isTTY: false }, { FORCE_COLOR: '1' })).toBe(true)
    expect(colorsEnabled({ write() {}, isTTY: true }, { FORCE_COLOR: '0' })).toBe(false)
  })
})

describe('createColors', () => {
  it('wraps in SGR codes and re-opens a style closed inside it', () => {
    const c = createColors(true)
    expect(c.red('x')).toBe('\x1b[31mx\x1b[39m')
    expect(c.bold(`a ${c.dim('b')} c`)).toBe('\x1b[1ma \x1b[2mb\x1b[22m\x1b[1m c\x1b[22m')
  })
  it('is the identity when off', () => {
    expect(createColors(false).cyan('x')).toBe('x')
  })
})
