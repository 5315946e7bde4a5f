import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compileDockerGlob,
  DockerPatternMatcher,
  parseDockerignore,
  translateDockerGlob,
} from './_docker-pattern.js'

const m = (patterns: string[]) => new DockerPatternMatcher(patterns)

describe('DockerPatternMatcher (docker-py 7.1.0)', () => {
  it('handles the vector 13 .dockerignore: last match wins, parent-dir prefix, case-insensitive', () => {
    const pm = m(parseDockerignore('# comment\nsecrets\n!secrets/keep.txt\n*.md\n'))
    expect(pm.matches('secrets/token.txt')).toBe(true)
    expect(pm.matches('secrets/keep.txt')).toBe(false)
    expect(pm.matches('README.md')).toBe(true)
    expect(pm.matches('readme.MD')).toBe(true)
    expect(pm.matches('docs/README.md')).toBe(false) // `*` stops at `/`
    expect(pm.matches('main.py')).toBe(false)
  })

  it('never ignores .dockerignore itself', () => {
    expect(m(['*']).matches('.dockerignore')).toBe(false)
    expect(m(['*']).matches('a.txt')).toBe(true)
  })

  it('supports **, ?, classes and pattern normalization', () => {
    expect(m(['**/*.py']).matches('a.py')).toBe(true)
    expect(m(['**/*.py']).matches('d/e/a.py')).toBe(true)
    expect(m(['**']).matches('x/y/z')).toBe(true)
    expect(m(['a?c']).matches('abc')).toBe(true)
    expect(m(['a?c']).matches('a/c')).toBe(false)
    expect(m(['[!a]bc']).matches('xbc')).toBe(true)
    expect(m(['[!a]bc']).matches('abc')).toBe(false)
    expect(m(['[a-c]x']).matches('bx')).toBe(true)
    expect(m(['./build/']).matches('build/out.txt')).toBe(true)
    expect(m(['foo/../bar']).matches('bar/x')).toBe(true)
    expect(m(['../bar']).matches('bar')).toBe(true)
    expect(m(['dir/sub']).matches('dir/sub/deep/file')).toBe(true)
    expect(m(['dir/sub']).matches('dir/other')).toBe(false)
    expect(m(['a.b']).matches('axb')).toBe(false)
    expect(m(['x[']).matches('x[')).toBe(true)
  })

  it('reads lines like flytekit: `#` comments only at column 0, blank lines dropped', () => {
    expect(parseDockerignore('#a\n  # b\n\n c \r\nd')).toEqual(['# b', '', 'c', 'd'])
    expect(m(parseDockerignore('  # b\n')).matches('# b')).toBe(true)
  })
})

describe('compileDockerGlob (linear time)', () => {
  it("answers as docker-py's regular expression does", () => {
    const piece = fc.constantFrom(
      'a',
      'b',
      '/',
      '.',
      '*',
      '**',
      '**/',
      '?',
      '[ab]',
      '[!a]',
      '[a-',
      ']',
      '\\',
      '\n',
      'é',
      '😀',
    )
    const text = fc.constantFrom('a', 'b', '/', '.', '\n', 'é', '😀', '[', ']')
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 7 }),
        fc.array(text, { maxLength: 10 }),
        (pat, path) => {
          const pattern = pat.join('')
          const input = path.join('')
          let re: RegExp
          try {
            re = new RegExp(translateDockerGlob(pattern), 'u')
          } catch {
            expect(() => compileDockerGlob(pattern)).toThrow() // an invalid class is refused by both
            return
          }
          expect(compileDockerGlob(pattern)(input)).toBe(re.test(input))
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('matches a pathological pattern against a long name without backtracking (the regex takes minutes)', () => {
    const pm = m(['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b'])
    const names = Array.from({ length: 200 }, (_, i) => `${'a'.repeat(60 + i)}/x`)
    for (const name of names) expect(pm.matches(name)).toBe(false)
    expect(pm.matches(`${'a'.repeat(40)}b`)).toBe(true)
  })
})
