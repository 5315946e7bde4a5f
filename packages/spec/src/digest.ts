// flytekit's content digests: ls_files (source_root), compute_digest (copy) and the requirements sha1.
import { createHash } from './_crypto.js'
import type { Digest as Hash } from './_crypto.js'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ImagespecError } from './errors.js'
import { IgnoreRules } from './ignore.js'
import type { CopyMode } from './types.js'

/** md5 of nothing: the source digest when no file is selected. */
export const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e'

// One read buffer, shared: every read below is synchronous, so no two digests use it at the same time.
const buffer = Buffer.allocUnsafe(1 << 20)
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Feeds a file's bytes to `hash` in chunks (bounded memory). */
function hashFile(hash: Hash, file: string): void {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (cause) {
    throw new ImagespecError('E_CONTEXT', `Cannot read "${file}"`, { cause })
  }
  try {
    for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, n))
  } finally {
    fs.closeSync(fd)
  }
}

/** Sorts like Python sorts str (by code point); JavaScript's default order differs only from U+D800 on. */
export function sortCodePoints(list: string[]): string[] {
  return list.some((s) => /[\ud800-\uffff]/.test(s)) ? list.sort(compareCodePoints) : list.sort()
}

/** Python's str ordering (code points), which differs from UTF-16 order only around surrogates. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000
    }
    return x - y
  }
  return a.length - b.length
}

/** Regular files (following symlinks); broken links, sockets, FIFOs and devices are skipped as flytekit skips them. */
function isRegularFile(abs: string, dirent: fs.Dirent): boolean {
  if (dirent.isFile()) return true
  if (!dirent.isSymbolicLink()) return false
  try {
    return fs.statSync(abs).isFile()
  } catch {
    return false
  }
}

function isDirectory(abs: string, dirent: fs.Dirent): boolean {
  if (dirent.isDirectory()) return true
  if (!dirent.isSymbolicLink()) return false
  try {
    return fs.statSync(abs).isDirectory()
  } catch {
    return false
  }
}

/** os.walk(root, followlinks=False) with `.git` pruned: the files kept by `ignore`, as POSIX paths relative to root. */
async function walkAll(root: string, ignore: IgnoreRules, prefix: string): Promise<string[]> {
  const files: string[] = []
  const pending = ['']
  for (let visited = 1; pending.length > 0; visited++) {
    const rel = pending.pop()!
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(rel === '' ? root : `${root}/${rel}`, { withFileTypes: true })
    } catch {
      continue // os.walk ignores directories it cannot list
    }
    for (const entry of entries) {
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`
      const abs = `${root}/${childRel}`
      if (entry.isDirectory()) {
        if (entry.name !== '.git' && !ignore.isIgnoredDir(prefix + childRel)) pending.push(childRel)
      } else if (isRegularFile(abs, entry) && !ignore.isIgnored(prefix + childRel)) files.push(childRel)
    }
    if (visited % 64 === 0) await tick()
  }
  return files
}

/** os.path.commonpath([file, dir]) == dir, as flytekit tests whether a module file lies under source_root. */
function underByCommonPath(file: string, dir: string): boolean {
  if (path.isAbsolute(file) !== path.isAbsolute(dir)) return false // Python raises ValueError; flytekit says no
  const parts = (p: string) => p.split('/').filter((c) => c !== '' && c !== '.')
  const f = parts(file)
  const d = parts(dir)
  let i = 0
  while (i < f.length && i < d.length && f[i] === d[i]) i++
  return (path.isAbsolute(dir) ? '/' : '') + d.slice(0, i).join('/') === dir && i === d.length
}

// A reader thread costs ~30 ms to start and pays off only with many files and a core to spare.
const READ_AHEAD_MIN_FILES = 256
const spareCore = () => os.loadavg()[0] < os.availableParallelism() - 1
const pathChunk = (rel: string) => rel.replaceAll('/', '')

async function digestFiles(root: string, files: readonly string[]): Promise<string> {
  const hash = createHash('md5')
  if (files.length >= READ_AHEAD_MIN_FILES && spareCore()) {
    const { hashFilesReadAhead } = await import('./_read-ahead.js') // loads worker_threads: only for many files
    await hashFilesReadAhead(root, files, hash, pathChunk)
    return hash.digest('hex')
  }
  for (let i = 0; i < files.length; i++) {
    hashFile(hash, `${root}/${files[i]}`)
    hash.update(pathChunk(files[i]), 'utf8')
    if (i % 256 === 255) await tick()
  }
  return hash.digest('hex')
}

/** Options of `listSourceFiles`. */
export interface ListSourceFilesOptions {
  /** LOADED_MODULES: absolute paths of the "imported modules" (Python's sys.modules); files under the root are kept. */
  loadedModules?: readonly string[]
  /**
   * Reproduce flytekit for a relative source_root (vector 13b): pass the root as written in the spec (e.g. `"proj"`).
   * The git and .dockerignore rules then see `proj/...` paths and in practice never match.
   */
  relativeRootQuirk?: string
}

/** @internal flytekit's exact ls_files, used for the tag: also emulates git's quoting and Python's commonpath. */
export async function lsFiles(
  sourceRootAbs: string,
  mode: CopyMode,
  opts: ListSourceFilesOptions & { flytekit?: { rootAsWritten: string } } = {},
): Promise<{ files: string[]; digest: string }> {
  const root = path.resolve(sourceRootAbs)
  let files: string[]
  if (mode === 'NO_COPY') files = []
  else if (mode === 'LOADED_MODULES') {
    const rootAsWritten = opts.flytekit?.rootAsWritten
    const kept = new Set<string>()
    for (const m of opts.loadedModules ?? []) {
      if (rootAsWritten !== undefined ? !underByCommonPath(m, rootAsWritten) : !path.isAbsolute(m)) continue
      const rel = path.relative(root, m)
      if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) kept.add(rel.split(path.sep).join('/'))
    }
    files = [...kept]
  } else {
    const quirk = opts.relativeRootQuirk
    const prefix = quirk === undefined || quirk === '' ? '' : quirk.endsWith('/') ? quirk : `${quirk}/`
    const ignore = await IgnoreRules.load(root, { flytekitQuoting: opts.flytekit !== undefined })
    files = await walkAll(root, ignore, prefix)
  }
  sortCodePoints(files)
  return { files, digest: await digestFiles(root, files) }
}

/**
 * The files of `source_root` that go into the image (`src/` of the build context), as POSIX paths relative to the
 * root, and flytekit's md5 over them (file bytes, then the relative path without separators, in sorted order).
 * ALL applies .gitignore (git ls-files, run once), .dockerignore and the standard ignores; LOADED_MODULES keeps
 * the `loadedModules` files under the root; NO_COPY lists nothing.
 */
export function listSourceFiles(
  sourceRootAbs: string,
  mode: CopyMode,
  opts: ListSourceFilesOptions = {},
): Promise<{ files: string[]; digest: string }> {
  return lsFiles(sourceRootAbs, mode, { loadedModules: opts.loadedModules, relativeRootQuirk: opts.relativeRootQuirk })
}

/** os.walk(topdown=True) in the directory's own listing order (flytekit does not sort subdirectories here). */
async function hashCopyDir(hash: Hash, dir: string): Promise<void> {
  const walk = async (rel: string): Promise<void> => {
    const names: string[] = []
    const subdirs: string[] = []
    let handle: fs.Dir
    try {
      handle = fs.opendirSync(path.join(dir, rel))
    } catch {
      return
    }
    try {
      for (let e; (e = handle.readSync()) !== null; ) {
        const childRel = rel === '' ? e.name : `${rel}/${e.name}`
        const abs = path.join(dir, childRel)
        if (isDirectory(abs, e)) {
          if (!e.isSymbolicLink()) subdirs.push(childRel)
        } else if (isRegularFile(abs, e)) names.push(childRel)
      }
    } finally {
      handle.closeSync()
    }
    names.sort(compareCodePoints)
    for (const name of names) {
      hashFile(hash, path.join(dir, name))
      hash.update(name.replaceAll('/', ''), 'utf8')
    }
    await tick()
    for (const sub of subdirs) await walk(sub)
  }
  await walk('')
}

/** flytekit's `compute_digest(copy)`: md5 over the entries in list order (directories walked, files by basename). */
export async function copyDigest(entries: readonly string[], cwd: string): Promise<string> {
  const hash = createHash('md5')
  for (const entry of entries) {
    const abs = path.resolve(cwd, entry)
    let stat: fs.Stats
    try {
      stat = fs.statSync(abs)
    } catch {
      continue // missing paths are skipped silently, as in flytekit
    }
    if (stat.isDirectory()) await hashCopyDir(hash, abs)
    else if (stat.isFile()) {
      hashFile(hash, abs)
      hash.update(entry.slice(entry.lastIndexOf('/') + 1), 'utf8')
    }
  }
  return hash.digest('hex')
}

/** flytekit's requirements digest: sha1 of the file's bytes with ASCII whitespace stripped at both ends. */
export function requirementsDigest(file: string): string {
  let bytes: Buffer
  try {
    bytes = fs.readFileSync(file)
  } catch (cause) {
    throw new ImagespecError('E_SPEC_INVALID', `Requirements file "${file}" not found`, { cause, field: 'requirements' })
  }
  const ws = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d)
  let start = 0
  let end = bytes.length
  while (start < end && ws(bytes[start])) start++
  while (end > start && ws(bytes[end - 1])) end--
  return createHash('sha1').update(bytes.subarray(start, end)).digest('hex')
}
