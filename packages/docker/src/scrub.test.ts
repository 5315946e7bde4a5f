import { describe, expect, it } from 'vitest'
import { makeScrubber } from './scrub.js'

describe('makeScrubber', () => {
  it('replaces every occurrence of each value, longest first', () => {
    const scrub = makeScrubber(['abcd', Buffer.from('abcdefgh')])
    expect(scrub('x abcdefgh y abcd z')).toBe('x *** y *** z')
  })

  it('scrubs a value with a trailing newline and each line of a multi-line value', () => {
    const scrub = makeScrubber(['token-1\n', '-----BEGIN KEY-----\nAAAABBBB\n-----END KEY-----\n'])
    expect(scrub('got token-1.')).toBe('got ***.')
    expect(scrub('line: AAAABBBB')).toBe('line: ***')
  })

  it('treats regular-expression characters literally and leaves text alone without secrets', () => {
    expect(makeScrubber(['a.b*c'])('a.b*c axbbc')).toBe('*** axbbc')
    expect(makeScrubber([])('nothing')).toBe('nothing')
    expect(makeScrubber([''])('nothing')).toBe('nothing')
  })
})
