// docker-py 7.1.0 `docker.utils.build.PatternMatcher` and `docker.utils.fnmatch` (the .dockerignore matcher
// flytekit uses): https://github.com/docker/docker-py/blob/7.1.0/docker/utils/build.py

import { ImagespecError } from './errors.js'

const splitPath = (p: string) => p.split('/').filter((part) => part !== '' && part !== '.')

/**
 * docker-py's `fnmatch.translate` as a regular expression source (the reference the linear matcher below is tested
 * against; never run on real paths: its `[^/]*a[^/]*a…` backtracks exponentially).
 * `*` and `?` stop at `/`, `**` spans segments, `[...]`/`[!...]` classes.
 */
export function translateDockerGlob(pat: string): string {
  let res = '^'
  let i = 0
  const n = pat.length
  while (i < n) {
    const c = pat[i++]
    if (c === '*') {
      if (pat[i] === '*') {
        i++
        if (pat[i] === '/') i++
        res += i >= n ? '[^\\n]*' : '(?:[^\\n]*/)?'
      } else res += '[^/]*'
    } else if (c === '?') res += '[^/]'
    else if (c === '[') {
      let j = i
      if (pat[j] === '!') j++
      if (pat[j] === ']') j++
      while (j < n && pat[j] !== ']') j++
      if (j >= n) res += '\\['
      else {
        let stuff = pat.slice(i, j).replace(/\\/g, '\\\\')
        i = j + 1
        if (stuff[0] === '!') stuff = '^' + stuff.slice(1)
        else if (stuff[0] === '^') stuff = '\\' + stuff
        res += `[${stuff.replace(/[[\]]/g, '\\$&')}]`
      }
    } else res += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  // Python's `$` also matches before a final newline.
  return res + '(?=\\n?$)'
}

/** One step of a compiled glob. */
type Token =
  | { t: 'char'; c: string }
  | { t: 'any' } // `?`: one code point but `/`
  | { t: 'class'; re: RegExp } // `[...]`: one code point
  | { t: 'star' } // `*`: any run without `/`
  | { t: 'all' } // a final `**`: any run without a newline
  | { t: 'dirs' } // `**/` or an inner `**`: nothing, or any run without a newline that ends with `/`

/** Splits a pattern into tokens with exactly the meaning `translateDockerGlob` gives it. */
function tokenize(pat: string): Token[] {
  const out: Token[] = []
  const chars = Array.from(pat)
  const n = chars.length
  let i = 0
  while (i < n) {
    const c = chars[i++]
    if (c === '*') {
      if (chars[i] === '*') {
        i++
        if (chars[i] === '/') i++
        out.push(i >= n ? { t: 'all' } : { t: 'dirs' })
      } else out.push({ t: 'star' })
    } else if (c === '?') out.push({ t: 'any' })
    else if (c === '[') {
      let j = i
      if (chars[j] === '!') j++
      if (chars[j] === ']') j++
      while (j < n && chars[j] !== ']') j++
      if (j >= n) out.push({ t: 'char', c: '[' })
      else {
        let stuff = chars.slice(i, j).join('').replace(/\\/g, '\\\\')
        i = j + 1
        if (stuff[0] === '!') stuff = '^' + stuff.slice(1)
        else if (stuff[0] === '^') stuff = '\\' + stuff
        out.push({ t: 'class', re: new RegExp(`^[${stuff.replace(/[[\]]/g, '\\$&')}]$`, 'u') })
      }
    } else out.push({ t: 'char', c })
  }
  return out
}

/**
 * Compiles a docker-py glob into a matcher that runs in O(path length × pattern length): a set of positions in the
 * pattern is advanced one code point at a time (no backtracking), so `*a*a*a*a*a*a*b` cannot stall a walk.
 * Same answers as `new RegExp(translateDockerGlob(pat), 'u').test(path)`.
 */
export function compileDockerGlob(pat: string): (path: string) => boolean {
  const tokens = tokenize(pat)
  const nfa = compileNfa(tokens)
  // Literal runs (consecutive plain characters) must appear as they are in any matching path: checking them first
  // answers most paths of a walk with a string comparison (`*.md` against `pkg/f1.py`) instead of the automaton.
  const runs: string[] = []
  let run = ''
  for (const tok of tokens) {
    if (tok.t === 'char') run += tok.c
    else {
      if (run !== '') runs.push(run)
      run = ''
    }
  }
  const last = run // the pattern's trailing literal ('' when it ends with a wildcard)
  if (last !== '') runs.push(last)
  if (runs.length === 1 && last.length > 0 && tokens.every((t) => t.t === 'char'))
    return (input) => input === last || input === `${last}\n` // Python's `$` also matches before a final newline
  const first = tokens[0]?.t === 'char' ? runs[0] : ''
  const lastNl = `${last}\n`
  return (input) =>
    input.startsWith(first) &&
    (last === '' || input.endsWith(last) || input.endsWith(lastNl)) &&
    runs.every((r) => input.includes(r)) &&
    nfa(input)
}

/** The automaton of `compileDockerGlob`, without the literal checks in front of it. */
function compileNfa(tokens: Token[]): (path: string) => boolean {
  const m = tokens.length
  // State k < m: before token k; state m: the whole pattern matched; state m + 1 + k: inside the run of a `dirs` token k.
  const size = 2 * m + 1
  return (input: string) => {
    let current = new Uint8Array(size)
    let next = new Uint8Array(size)
    const close = (set: Uint8Array) => {
      // Tokens that can match nothing let the next position start too.
      for (let k = 0; k < m; k++) {
        const t = tokens[k].t
        if (set[k] && (t === 'star' || t === 'all' || t === 'dirs')) set[k + 1] = 1
      }
    }
    current[0] = 1
    close(current)
    let acceptedBeforeLast = false
    const chars = Array.from(input)
    for (let p = 0; p < chars.length; p++) {
      const ch = chars[p]
      if (p === chars.length - 1) acceptedBeforeLast = current[m] === 1
      next.fill(0)
      let any = false
      for (let k = 0; k < m; k++) {
        const inRun = tokens[k].t === 'dirs' && current[m + 1 + k] === 1
        if (!current[k] && !inRun) continue
        const tok = tokens[k]
        switch (tok.t) {
          case 'char':
            if (ch === tok.c) next[k + 1] = 1
            break
          case 'any':
            if (ch !== '/') next[k + 1] = 1
            break
          case 'class':
            if (tok.re.test(ch)) next[k + 1] = 1
            break
          case 'star':
            if (ch !== '/') next[k] = 1
            break
          case 'all':
            if (ch !== '\n') next[k] = 1
            break
          case 'dirs':
            if (ch !== '\n') next[m + 1 + k] = 1
            if (ch === '/') next[k + 1] = 1
            break
        }
      }
      close(next)
      for (let k = 0; k < size && !any; k++) any = next[k] === 1
      ;[current, next] = [next, current]
      if (!any) return p === chars.length - 1 && acceptedBeforeLast && ch === '\n'
    }
    // Python's `$` also matches before a final newline.
    return current[m] === 1 || (acceptedBeforeLast && chars[chars.length - 1] === '\n')
  }
}

interface Pattern {
  exclusion: boolean
  dirs: string[]
  re: { test(path: string): boolean }
}

function compile(raw: string): Pattern {
  const exclusion = raw.startsWith('!')
  const split = splitPath((exclusion ? raw.slice(1) : raw).trim())
  for (let i = 0; i < split.length;) {
    if (split[i] === '..') {
      split.splice(i, 1)
      if (i > 0) split.splice(--i, 1)
    } else i++
  }
  const cleaned = split.join('/').toLowerCase()
  try {
    return { exclusion, dirs: split, re: { test: compileDockerGlob(cleaned) } }
  } catch (cause) {
    throw new ImagespecError('E_CONTEXT', `Invalid .dockerignore pattern "${raw}"`, { cause })
  }
}

/** A `.dockerignore` matcher: case-insensitive, last match wins, `!.dockerignore` always appended. */
export class DockerPatternMatcher {
  private readonly patterns: Pattern[]
  private readonly excludesAny: boolean

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.map(compile).filter((p) => p.dirs.length > 0)
    this.patterns.push(compile('!.dockerignore'))
    this.excludesAny = this.patterns.some((p) => !p.exclusion)
  }

  /** Whether `filepath` (relative, POSIX) is excluded. */
  matches(filepath: string): boolean {
    if (!this.excludesAny) return false
    const name = filepath.toLowerCase()
    const slash = name.lastIndexOf('/')
    const viaParent = this.parentMatches(slash >= 0 ? name.slice(0, slash) : '')
    let matched = false
    for (let i = 0; i < this.patterns.length; i++)
      if (viaParent[i] || this.patterns[i].re.test(name)) matched = !this.patterns[i].exclusion
    return matched
  }

  // A walk asks about the files of one directory in a row: the answers for their parent are kept for the next one.
  private lastParent: string | undefined
  private lastParentMatches: boolean[] = []

  /** For each pattern, whether it matches the first directories of `parent` (as many as the pattern has parts). */
  private parentMatches(parent: string): boolean[] {
    if (parent === this.lastParent) return this.lastParentMatches
    const dirs = parent === '' ? [] : splitPath(parent)
    const prefixes: string[] = []
    this.lastParent = parent
    this.lastParentMatches = this.patterns.map((p) => {
      const k = p.dirs.length
      return k <= dirs.length && p.re.test((prefixes[k] ??= dirs.slice(0, k).join('/')))
    })
    return this.lastParentMatches
  }
}

/** Reads `.dockerignore` lines the way flytekit does: `#` lines dropped (before stripping), the rest stripped. */
export function parseDockerignore(text: string): string[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.trim())
}
