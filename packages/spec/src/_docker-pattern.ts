// docker-py 7.1.0 `docker.utils.build.PatternMatcher` and `docker.utils.fnmatch` (the .dockerignore matcher
// flytekit uses): https://github.com/docker/docker-py/blob/7.1.0/docker/utils/build.py

import { ImagespecError } from './errors.js'

const splitPath = (p: string) => p.split('/').filter((part) => part !== '' && part !== '.')

/** docker-py's `fnmatch.translate`: `*` and `?` stop at `/`, `**` spans segments, `[...]`/`[!...]` classes. */
function translateDockerGlob(pat: string): string {
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

interface Pattern {
  exclusion: boolean
  dirs: string[]
  re: RegExp
}

function compile(raw: string): Pattern {
  const exclusion = raw.startsWith('!')
  const split = splitPath((exclusion ? raw.slice(1) : raw).trim())
  for (let i = 0; i < split.length; ) {
    if (split[i] === '..') {
      split.splice(i, 1)
      if (i > 0) split.splice(--i, 1)
    } else i++
  }
  const cleaned = split.join('/').toLowerCase()
  try {
    return { exclusion, dirs: split, re: new RegExp(translateDockerGlob(cleaned), 'u') }
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
    const parent = slash >= 0 ? name.slice(0, slash) : ''
    let parentDirs: string[] | undefined
    let matched = false
    for (const p of this.patterns) {
      let match = p.re.test(name)
      if (!match && parent !== '') {
        parentDirs ??= splitPath(parent)
        if (p.dirs.length <= parentDirs.length) match = p.re.test(parentDirs.slice(0, p.dirs.length).join('/'))
      }
      if (match) matched = !p.exclusion
    }
    return matched
  }
}

/** Reads `.dockerignore` lines the way flytekit does: `#` lines dropped (before stripping), the rest stripped. */
export function parseDockerignore(text: string): string[] {
  return text.replace(/\r\n?/g, '\n').split('\n').filter((l) => !l.startsWith('#')).map((l) => l.trim())
}
