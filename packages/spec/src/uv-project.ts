// uv projects beyond flytekit's two files: the workspace members a uv.lock names, the files an install reads, and
// the digest that covers them (used only where flytekit cannot build the spec at all: a workspace; docs/compat.md).
import fs from 'node:fs'
import path from 'node:path'
import { createHash } from './_crypto.js'
import {
  checkRequirementsFile,
  listSourceFiles,
  refuseSpecialFile,
  requirementsDigest,
  sortCodePoints,
} from './digest.js'
import { ImagespecError } from './errors.js'
import type { ImageSpec } from './types.js'

/** The `builder_options` key that installs the project itself after its dependencies (uv.lock and poetry.lock). */
export const INSTALL_PROJECT_OPTION = 'install_project'

/** One dependency edge of a uv.lock package. */
export interface UvLockDependency {
  name: string
  marker?: string
  extra?: string[]
}

/** One `[[package]]` of a uv.lock. `source` is e.g. `{registry: url}`, `{editable: path}`, `{virtual: path}`. */
export interface UvLockPackage {
  name: string
  version?: string
  source: Record<string, string>
  dependencies: UvLockDependency[]
}

/** What imagespec reads from a uv.lock. */
export interface UvLock {
  /** Absolute directory of the lock file: the project, or the workspace root. */
  root: string
  /** The root project's package (source path `.`), if the lock has one. */
  rootPackage?: UvLockPackage
  /** Workspace members other than the root (`[manifest] members`), with their paths relative to the root. */
  members: { name: string; path: string }[]
  packages: UvLockPackage[]
}

const SOURCE_PATH_KEYS = ['editable', 'virtual', 'directory'] as const
const posix = (p: string) => p.split(path.sep).join('/')

function sourcePath(pkg: UvLockPackage): string | undefined {
  for (const k of SOURCE_PATH_KEYS)
    if (typeof pkg.source[k] === 'string') return posix(path.posix.normalize(pkg.source[k]))
  return undefined
}

/** Reads a uv.lock: its packages, the root project and the workspace members (their paths must stay inside the root). */
export async function readUvLock(lockFile: string): Promise<UvLock> {
  let doc: Record<string, unknown>
  try {
    // Loaded on first use: most specs have no uv.lock, and every command start loads this package.
    const { parse } = await import('smol-toml')
    doc = parse(fs.readFileSync(lockFile, 'utf8')) as Record<string, unknown>
  } catch (cause) {
    throw new ImagespecError(
      'E_SPEC_INVALID',
      `requirements: "${lockFile}" is not a readable uv.lock`,
      { cause, field: 'requirements' },
    )
  }
  const packages: UvLockPackage[] = (Array.isArray(doc.package) ? doc.package : []).flatMap(
    (p: Record<string, unknown>) =>
      typeof p?.name === 'string'
        ? [
            {
              name: p.name,
              version: typeof p.version === 'string' ? p.version : undefined,
              source: (p.source && typeof p.source === 'object' ? p.source : {}) as Record<
                string,
                string
              >,
              dependencies: (Array.isArray(p.dependencies) ? p.dependencies : []).filter(
                (d: unknown) => typeof (d as UvLockDependency)?.name === 'string',
              ) as UvLockDependency[],
            },
          ]
        : [],
  )
  const manifest = (doc.manifest ?? {}) as { members?: unknown }
  const memberNames = new Set(
    Array.isArray(manifest.members) ? manifest.members.filter((m) => typeof m === 'string') : [],
  )
  const root = path.dirname(path.resolve(lockFile))
  const members: UvLock['members'] = []
  let rootPackage: UvLockPackage | undefined
  for (const pkg of packages) {
    const at = sourcePath(pkg)
    if (at === '.') rootPackage ??= pkg
    else if (at !== undefined && memberNames.has(pkg.name)) {
      if (at.startsWith('../') || at === '..' || path.posix.isAbsolute(at))
        throw new ImagespecError(
          'E_SPEC_INVALID',
          `requirements: workspace member "${pkg.name}" at "${at}" is outside "${root}"`,
          {
            field: 'requirements',
            hint: "The build context holds the lock file's directory; keep the members inside it",
          },
        )
      members.push({ name: pkg.name, path: at })
    }
  }
  members.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return { root, rootPackage, members, packages }
}

/** `builder_options.install_project`: `true` installs the project itself after its dependencies. */
export function installProjectOption(spec: ImageSpec): boolean {
  const v = spec.builder_options?.[INSTALL_PROJECT_OPTION]
  if (v === undefined || v === false || v === null) return false
  if (v === true) return true
  throw new ImagespecError(
    'E_SPEC_INVALID',
    `builder_options.${INSTALL_PROJECT_OPTION}: must be true or false`,
    {
      field: `builder_options.${INSTALL_PROJECT_OPTION}`,
    },
  )
}

const skipped = (rel: string) =>
  rel === '.venv' || rel.startsWith('.venv/') || rel.includes('/.venv/')

async function filesUnder(root: string, dir: string): Promise<string[]> {
  const { files } = await listSourceFiles(path.join(root, dir), 'ALL')
  return files.map((f) => (dir === '' ? f : `${dir}/${f}`)).filter((f) => !skipped(f))
}

/**
 * The files of a uv project an install reads, relative to the lock's directory: `uv.lock` and `pyproject.toml`, every
 * workspace member's files, and with `installProject` every file of the project. The .gitignore, .dockerignore and
 * standard ignores apply (as for `source_copy_mode: all`), and `.venv` folders are left out.
 */
export async function uvProjectFiles(lock: UvLock, installProject: boolean): Promise<string[]> {
  const files = new Set(['uv.lock', 'pyproject.toml'])
  if (installProject) for (const f of await filesUnder(lock.root, '')) files.add(f)
  else
    for (const m of lock.members) for (const f of await filesUnder(lock.root, m.path)) files.add(f)
  return sortCodePoints([...files])
}

/**
 * The requirements digest of a uv workspace (flytekit cannot build one, so its tag has no flytekit value to keep):
 * sha1 over flytekit's value (the stripped uv.lock's sha1), then each file `uvProjectFiles` lists, as its path and
 * the sha1 of its bytes. Editing a member's pyproject.toml or sources, or the root pyproject.toml, changes the tag.
 */
export async function uvWorkspaceDigest(
  lockFile: string,
  lock: UvLock,
  installProject: boolean,
): Promise<string> {
  const hash = createHash('sha1').update(requirementsDigest(lockFile), 'utf8')
  for (const rel of await uvProjectFiles(lock, installProject)) {
    if (rel === 'uv.lock') continue
    let bytes: Buffer
    refuseSpecialFile(path.join(lock.root, rel), 'requirements')
    try {
      bytes = fs.readFileSync(path.join(lock.root, rel))
    } catch (cause) {
      throw new ImagespecError('E_CONTEXT', `Cannot read "${path.join(lock.root, rel)}"`, {
        cause,
        field: 'requirements',
      })
    }
    hash.update(`\0${rel}\0${createHash('sha1').update(bytes).digest('hex')}`, 'utf8')
  }
  return hash.digest('hex')
}

/** The uv.lock of a spec (`requirements` named `uv.lock` and present), else undefined. */
export async function specUvLock(
  spec: ImageSpec,
  cwd: string,
): Promise<{ file: string; lock: UvLock } | undefined> {
  if (!spec.requirements || path.basename(spec.requirements) !== 'uv.lock') return undefined
  const file = path.resolve(cwd, spec.requirements)
  if (!checkRequirementsFile(file)) return undefined
  const lock = await readUvLockLenient(file)
  return lock && { file, lock }
}

/**
 * `readUvLock`, except that a lock file that is not TOML gives undefined: flytekit never parses it, so such a spec
 * keeps flytekit's tag and Dockerfile (and uv reports the broken lock in the build).
 */
async function readUvLockLenient(file: string): Promise<UvLock | undefined> {
  try {
    return await readUvLock(file)
  } catch (e) {
    if (e instanceof ImagespecError && e.message.endsWith('is not a readable uv.lock'))
      return undefined
    throw e
  }
}

/** A lock-file project (`requirements` named `uv.lock` or `poetry.lock`), as the installers need it. */
export interface LockProject {
  lockName: 'uv.lock' | 'poetry.lock'
  /** Absolute directory of the lock file. */
  root: string
  installProject: boolean
  /** The uv.lock's contents (uv only; undefined when the file is not TOML). */
  uvLock?: UvLock
  /** A uv workspace: the lock names members besides the root (flytekit cannot build these). */
  workspace: boolean
  /**
   * The project files the install reads besides flytekit's two (relative to `root`, sorted), when the install needs
   * them: a uv workspace, or `install_project`. Undefined otherwise (flytekit's install).
   */
  files?: string[]
}

/** The lock-file project of a spec, or undefined (no lock file, or the lock file is missing: flytekit's error follows). */
export async function readLockProject(
  spec: ImageSpec,
  cwd: string,
): Promise<LockProject | undefined> {
  const lockName = spec.requirements ? path.basename(spec.requirements) : undefined
  if (lockName !== 'uv.lock' && lockName !== 'poetry.lock') return undefined
  const installProject = installProjectOption(spec)
  const file = path.resolve(cwd, spec.requirements!)
  if (!checkRequirementsFile(file)) return undefined
  const root = path.dirname(file)
  // The context copies the pyproject.toml beside the lock by name: a FIFO there would block the copy.
  refuseSpecialFile(path.join(root, 'pyproject.toml'), 'requirements')
  if (lockName === 'poetry.lock') {
    const files = installProject
      ? sortCodePoints([
          ...new Set(['poetry.lock', 'pyproject.toml', ...(await filesUnder(root, ''))]),
        ])
      : undefined
    return { lockName, root, installProject, workspace: false, files }
  }
  const uvLock = await readUvLockLenient(file)
  const workspace = (uvLock?.members.length ?? 0) > 0
  const files =
    workspace || installProject
      ? await uvProjectFiles(uvLock ?? { root, members: [], packages: [] }, installProject)
      : undefined
  return { lockName, root, installProject, uvLock, workspace, files }
}
