// flytekit's content digests: ls_files (source_root), compute_digest (copy) and the requirements sha1.
import { createHash } from './_crypto.js'
import type { Digest as Hash } from './_crypto.js'
import fs from 'node:fs'
import path from 'node:path'
import { ImagespecError } from './errors.js'
import { IgnoreRules, loadIgnoreInputs, type IgnoreInputs } from './ignore.js'
import type { CopyMode } from './types.js'

/** md5 of nothing: the source digest when no file is selected. */
export const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e'

// One read buffer, shared: every read below is synchronous, so no two digests use it at the same time.
const buffer = Buffer.allocUnsafe(1 << 20)
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Feeds a file's bytes to `hash` through the shared buffer, a full buffer at a time (bounded memory). Returns how many
 * bytes of the file's end are left at the start of `buffer`, not yet hashed.
 */
function hashFileLeavingTail(hash: Hash, file: string): number {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (cause) {
    throw new ImagespecError('E_CONTEXT', `Cannot read "${file}"`, { cause })
  }
  let used = 0
  try {
    for (let n; (n = fs.readSync(fd, buffer, used, buffer.length - used, null)) > 0;) {
      used += n
      if (used === buffer.length) {
        hash.update(buffer)
        used = 0
      }
    }
  } finally {
    fs.closeSync(fd)
  }
  return used
}

/** Feeds a file's bytes to `hash`. */
function hashFile(hash: Hash, file: string): void {
  hash.update(buffer.subarray(0, hashFileLeavingTail(hash, file)))
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

/** What a walk does with a directory entry: descend into it, take it as a file, or skip it. */
export type EntryKind = 'dir' | 'file' | 'skip'

function kindName(st: fs.Stats | fs.Dirent): string {
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  return 'not a regular file'
}

/** `E_CONTEXT` for a FIFO, socket or device met where a file goes into the image: `<subject> <kind>: only ...`. */
const specialFile = (subject: string, st: fs.Stats | fs.Dirent, field: string) =>
  new ImagespecError(
    'E_CONTEXT',
    `${subject} ${kindName(st)}: only regular files and directories can go into an image`,
    { field },
  )

const within = (target: string, root: string) =>
  target === root || target.startsWith(root.endsWith('/') ? root : `${root}/`)

/**
 * The one rule the tag digest and the build context share for an entry of a walked tree (`source_root`, a `copy`
 * directory): directories are walked; regular files are taken; a symlink to a regular file is followed only when its
 * target stays inside `rootReal` (the real path of the tree); symlinks to directories are never followed (as
 * os.walk(followlinks=False) does for the digest), so no walk can loop; broken links are skipped. A link leaving the
 * tree, a FIFO, a socket or a device is refused with `E_CONTEXT` naming it, before anything opens it.
 */
export function entryKind(abs: string, dirent: fs.Dirent, rootReal: string): EntryKind {
  if (dirent.isDirectory()) return 'dir'
  if (dirent.isFile()) return 'file'
  if (!dirent.isSymbolicLink()) throw specialFile(`"${abs}" is`, dirent, abs)
  let st: fs.Stats
  try {
    st = fs.statSync(abs)
  } catch {
    return 'skip' // a broken link, skipped as flytekit skips it
  }
  if (st.isDirectory()) return 'skip'
  if (!st.isFile()) throw specialFile(`"${abs}" links to`, st, abs)
  checkLinkInside(abs, rootReal)
  return 'file'
}

/** Refuses a symlink whose real target is outside `rootReal` (its content would leave the project). */
function checkLinkInside(abs: string, rootReal: string): void {
  let target: string
  try {
    target = fs.realpathSync(abs)
  } catch (cause) {
    throw new ImagespecError('E_CONTEXT', `Cannot resolve the symbolic link "${abs}"`, {
      cause,
      field: abs,
    })
  }
  if (!within(target, rootReal))
    throw new ImagespecError(
      'E_CONTEXT',
      `"${abs}" is a symbolic link to "${target}", outside "${rootReal}": it is not followed`,
      {
        field: abs,
        hint: 'Copy the file into the project, or point the link at a file inside it',
      },
    )
}

/** The real path of a tree's root (links inside the tree must stay under it). */
export function realRoot(root: string): string {
  try {
    return fs.realpathSync(root)
  } catch {
    return path.resolve(root)
  }
}

/** os.walk(root, followlinks=False) with `.git` pruned: the files kept by `ignore`, as POSIX paths relative to root. */
async function walkAll(root: string, ignore: IgnoreRules, prefix: string): Promise<string[]> {
  const files: string[] = []
  const rootReal = realRoot(root)
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
      if (entry.isDirectory()) {
        if (entry.name !== '.git' && !ignore.isIgnoredDir(prefix + childRel)) pending.push(childRel)
      } else if (
        !ignore.isIgnored(prefix + childRel) &&
        (entry.isFile() || entryKind(`${root}/${childRel}`, entry, rootReal) === 'file')
      )
        files.push(childRel)
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

/**
 * flytekit's source digest: each file's bytes, then its path without separators, in the given order. Read in this
 * thread, one file after another, as `md5sum` does: a reader thread (tried before) only added its start-up and the
 * hand-over of every chunk, and lost most when the machine was busy. A file that fits the buffer with its path goes to
 * the hash in one update.
 */
async function digestFiles(root: string, files: readonly string[]): Promise<string> {
  const hash = createHash('md5')
  for (let i = 0; i < files.length; i++) {
    const rel = files[i]
    let used = hashFileLeavingTail(hash, `${root}/${rel}`)
    const chunk = rel.replaceAll('/', '')
    // Room for 3 bytes a character, so nothing is cut: as many bytes as characters means ASCII (else hashed on its own).
    if (used + 3 * chunk.length <= buffer.length && buffer.write(chunk, used) === chunk.length) {
      used += chunk.length
      hash.update(buffer.subarray(0, used))
    } else {
      hash.update(buffer.subarray(0, used))
      hash.update(chunk, 'utf8')
    }
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
  /** Compute the md5 (default true); the build context only needs the list, and reading every file costs. */
  digest?: boolean
  /** Walks to reuse: pass one `createSourceWalks()` to the tag and then the context of one command. */
  sourceWalks?: SourceWalks
}

/**
 * Source-tree walks kept for one command (`render` computes the tag, then lists the same tree for the context): git
 * runs and the tree is walked once per root. Create one per command; files changed meanwhile are not seen.
 */
export interface SourceWalks {
  /** @internal */
  readonly inputs: Map<string, Promise<IgnoreInputs>>
  /** @internal */
  readonly walks: Map<string, Promise<string[]>>
}

/** A new, empty `SourceWalks`. */
export function createSourceWalks(): SourceWalks {
  return { inputs: new Map(), walks: new Map() }
}

function memo<T>(map: Map<string, Promise<T>> | undefined, key: string, make: () => Promise<T>) {
  if (!map) return make()
  let p = map.get(key)
  if (!p) map.set(key, (p = make()))
  return p
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
      if (rootAsWritten !== undefined ? !underByCommonPath(m, rootAsWritten) : !path.isAbsolute(m))
        continue
      const rel = path.relative(root, m)
      if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel))
        kept.add(rel.split(path.sep).join('/'))
    }
    files = [...kept]
  } else {
    const quirk = opts.relativeRootQuirk
    const prefix =
      quirk === undefined || quirk === '' ? '' : quirk.endsWith('/') ? quirk : `${quirk}/`
    const inputs = await memo(opts.sourceWalks?.inputs, root, () => loadIgnoreInputs(root))
    // flytekit's quoting of git's answers matters only when git named such a path: else tag and context walk alike.
    const quoting = opts.flytekit !== undefined && inputs.quoted
    const walk = () => walkAll(root, IgnoreRules.from(inputs, { flytekitQuoting: quoting }), prefix)
    files = [...(await memo(opts.sourceWalks?.walks, `${quoting}\0${prefix}\0${root}`, walk))]
  }
  sortCodePoints(files)
  return { files, digest: opts.digest === false ? '' : await digestFiles(root, files) }
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
  return lsFiles(sourceRootAbs, mode, {
    loadedModules: opts.loadedModules,
    relativeRootQuirk: opts.relativeRootQuirk,
    digest: opts.digest,
    sourceWalks: opts.sourceWalks,
  })
}

/** os.walk(topdown=True) in the directory's own listing order (flytekit does not sort subdirectories here). */
async function hashCopyDir(hash: Hash, dir: string): Promise<void> {
  const rootReal = realRoot(dir)
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
      for (let e; (e = handle.readSync()) !== null;) {
        const childRel = rel === '' ? e.name : `${rel}/${e.name}`
        const abs = path.join(dir, childRel)
        const kind = entryKind(abs, e, rootReal)
        if (kind === 'dir') subdirs.push(childRel)
        else if (kind === 'file') names.push(childRel)
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

const COPY_ERROR = "Absolute paths or paths with '..' are not allowed in COPY command."

/**
 * The checks every `copy` entry gets, from the tag as from the context: an absolute path is refused with flytekit's
 * text (`E_SPEC_INVALID`, field `copy[i]`), and so is one with `..` unless `allowParent` (the tag: flytekit computes
 * it, vector 18, and refuses only when it creates the context); a FIFO, socket or device with `E_CONTEXT`; an entry
 * that is itself a symlink must point inside the spec's directory. Returns the entry's stat (links followed), or
 * undefined when it does not exist.
 */
export function copyEntryStat(
  entry: string,
  i: number,
  cwd: string,
  opts: { allowParent?: boolean } = {},
): fs.Stats | undefined {
  if (entry.startsWith('/') || (!opts.allowParent && entry.split('/').includes('..')))
    throw new ImagespecError('E_SPEC_INVALID', COPY_ERROR, { field: `copy[${i}]` })
  const abs = path.resolve(cwd, entry)
  let stat: fs.Stats
  try {
    stat = fs.statSync(abs)
  } catch {
    return undefined
  }
  if (!stat.isDirectory() && !stat.isFile())
    throw specialFile(`copy[${i}]: "${entry}" is`, stat, `copy[${i}]`)
  if (fs.lstatSync(abs).isSymbolicLink()) checkLinkInside(abs, realRoot(cwd))
  return stat
}

/** flytekit's `compute_digest(copy)`: md5 over the entries in list order (directories walked, files by basename). */
export async function copyDigest(entries: readonly string[], cwd: string): Promise<string> {
  const hash = createHash('md5')
  for (const [i, entry] of entries.entries()) {
    const abs = path.resolve(cwd, entry)
    const stat = copyEntryStat(entry, i, cwd, { allowParent: true })
    if (stat === undefined) continue // missing paths are skipped silently, as in flytekit
    if (stat.isDirectory()) await hashCopyDir(hash, abs)
    else {
      hashFile(hash, abs)
      hash.update(entry.slice(entry.lastIndexOf('/') + 1), 'utf8')
    }
  }
  return hash.digest('hex')
}

/**
 * Refuses `file` with `E_CONTEXT` naming it when it exists and is not a regular file (links followed), before
 * anything opens it: for the files a lock-file project reads by name (pyproject.toml beside the lock).
 */
export function refuseSpecialFile(file: string, field: string): void {
  let stat: fs.Stats
  try {
    stat = fs.statSync(file)
  } catch {
    return
  }
  if (!stat.isFile() && !stat.isDirectory()) throw specialFile(`"${file}" is`, stat, field)
}

/**
 * The one check of a `requirements` path before anything reads it (the tag, the lock-file readers, the installers,
 * the context): a FIFO would block and a device (/dev/zero) never end, so only a regular file may be read. Refuses
 * anything else with `E_SPEC_INVALID`; returns whether the path exists.
 */
export function checkRequirementsFile(file: string): boolean {
  let stat: fs.Stats
  try {
    stat = fs.statSync(file)
  } catch {
    return false
  }
  if (!stat.isFile())
    throw new ImagespecError(
      'E_SPEC_INVALID',
      `Requirements file "${file}" is not a regular file`,
      { field: 'requirements' },
    )
  return true
}

/** flytekit's requirements digest: sha1 of the file's bytes with ASCII whitespace stripped at both ends. */
export function requirementsDigest(file: string): string {
  let bytes: Buffer
  checkRequirementsFile(file)
  try {
    bytes = fs.readFileSync(file)
  } catch (cause) {
    throw new ImagespecError('E_SPEC_INVALID', `Requirements file "${file}" not found`, {
      cause,
      field: 'requirements',
    })
  }
  const ws = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d)
  let start = 0
  let end = bytes.length
  while (start < end && ws(bytes[start])) start++
  while (end > start && ws(bytes[end - 1])) end--
  return createHash('sha1').update(bytes.subarray(start, end)).digest('hex')
}
