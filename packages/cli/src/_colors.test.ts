import { describe, expect, it } from 'vitest'
import { colorsEnabled } from './_colors.js'

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
