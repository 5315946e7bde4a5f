// What uv workspaces and `builder_options.install_project` add to the lock-file installs: the project's files in a
// context folder of their own, mounted read-write (builds write into the source tree; the writes are discarded).
import { dirname, join, resolve } from 'node:path'
import {
  ImagespecError,
  type ContextFile,
  type ImageSpec,
  type LockProject,
  type RunMount,
  type UvLock,
} from '@imagespec/spec'
import type { InstallerContext } from './types.js'

/** The context folder holding the project's files (away from flytekit's `src/` and the `copy` entries). */
export const PROJECT_CONTEXT_DIR = '.imagespec-project'
/** Where a step sees the project (outside /root, so nothing of it stays in the image). */
export const PROJECT_MOUNT = '/tmp/imagespec-project'
export const PROJECT_BIND: RunMount = {
  type: 'bind',
  target: PROJECT_MOUNT,
  src: PROJECT_CONTEXT_DIR,
  rw: true,
}

/** flytekit's `_copy_lock_files_into_context`: the lock file, then the pyproject.toml beside it. */
export function lockFiles(spec: ImageSpec, lock: string, ctx: InstallerContext): ContextFile[] {
  if (spec.packages !== null)
    throw new ImagespecError(
      'E_SPEC_INVALID',
      `Support for ${lock} files and packages is mutually exclusive`,
      {
        field: 'packages',
      },
    )
  const source = resolve(ctx.cwd, spec.requirements!)
  return [
    { path: lock, source },
    {
      path: 'pyproject.toml',
      source: resolve(dirname(source), 'pyproject.toml'),
      missingMessage: `To use ${lock}, a pyproject.toml file must be in the same directory as the lock file`,
    },
  ]
}

/** The spec's lock-file project when it is of this kind (the context reads it ahead). */
export function lockProjectOf(
  ctx: InstallerContext,
  lock: LockProject['lockName'],
): LockProject | undefined {
  return ctx.lockProject?.lockName === lock ? ctx.lockProject : undefined
}

/** The project's files placed under `PROJECT_CONTEXT_DIR`, when the install reads more than flytekit's two. */
export const projectFiles = (project: LockProject | undefined): ContextFile[] =>
  (project?.files ?? []).map((rel) => ({
    path: `${PROJECT_CONTEXT_DIR}/${rel}`,
    source: join(project!.root, rel),
  }))

/**
 * `install_project` outside a uv workspace keeps flytekit's tag, which hashes only the lock file: say that the
 * project's own files are not part of it.
 */
export function warnUnhashedProject(project: LockProject | undefined, ctx: InstallerContext): void {
  if (!project?.installProject || project.workspace) return
  ctx.warn(
    `builder_options.install_project: the project in "${project.root}" is installed, but the tag stays flytekit's, which hashes only ${project.lockName}: after changing the project's files, force a rebuild (FLYTE_FORCE_PUSH_IMAGE_SPEC=1) or change the lock file`,
  )
}

/** The workspace members the root project depends on (directly or through other packages), in lock order. */
export function installedMembers(lock: UvLock): UvLock['members'] {
  const byName = new Map(lock.packages.map((p) => [p.name, p]))
  const seen = new Set<string>()
  const pending = lock.rootPackage
    ? lock.rootPackage.dependencies.map((d) => d.name)
    : lock.members.map((m) => m.name)
  while (pending.length > 0) {
    const name = pending.pop()!
    if (seen.has(name)) continue
    seen.add(name)
    for (const d of byName.get(name)?.dependencies ?? []) pending.push(d.name)
  }
  return lock.members.filter((m) => seen.has(m.name))
}
