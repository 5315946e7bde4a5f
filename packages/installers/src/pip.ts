import {
  ImagespecError,
  type ImageSpec,
  type PackagePlan,
  type UvLockDependency,
} from '@imagespec/spec'
import { bind, indexArgs, requirementLines, requirementsName, secretMounts } from './_common.js'
import {
  PROJECT_BIND,
  PROJECT_MOUNT,
  installedMembers,
  lockFiles,
  lockProjectOf,
  projectFiles,
  warnUnhashedProject,
} from './_project.js'
import { shellQuote } from './_shell.js'
import type { Installer, InstallerContext } from './types.js'

const PIP_CACHE = { type: 'cache', target: '/root/.cache/pip', id: 'pip' } as const

/** A uv.lock dependency edge as a pip requirement line (`name[extra] ; marker`). */
const requirementOf = (d: UvLockDependency) =>
  `${d.name}${d.extra?.length ? `[${d.extra.join(',')}]` : ''}${d.marker ? ` ; ${d.marker}` : ''}`

/**
 * `requirements: uv.lock` with the pip installer: the lock's registry pins become pip constraints
 * (`uv_constraints.txt`, versions only: pip does not check the lock's hashes), the workspace members the root depends
 * on (and the project itself with `install_project`) are installed from their sources, and otherwise the root's
 * dependencies by name. Dev dependencies are left out, as `uv sync --no-dev` leaves them.
 */
function pipUvLock(spec: ImageSpec, ctx: InstallerContext, python: string): PackagePlan {
  ctx.warn('uv.lock support is experimental')
  const files = lockFiles(spec, 'uv.lock', ctx)
  const project = lockProjectOf(ctx, 'uv.lock')
  if (!project?.uvLock)
    throw new ImagespecError(
      'E_CONTEXT',
      `Requirements file "${spec.requirements}" cannot be read`,
      { field: 'requirements' },
    )
  warnUnhashedProject(project, ctx)
  const lock = project.uvLock
  const local = new Set([
    ...lock.members.map((m) => m.name),
    ...(lock.rootPackage ? [lock.rootPackage.name] : []),
  ])
  const pins = lock.packages
    .filter((p) => p.source.registry !== undefined && p.version && !local.has(p.name))
    .map((p) => `${p.name}==${p.version}`)
  const members = installedMembers(lock).map((m) => `${PROJECT_MOUNT}/${m.path}`)
  const rootDeps = project.installProject
    ? [PROJECT_MOUNT]
    : (lock.rootPackage?.dependencies ?? []).filter((d) => !local.has(d.name)).map(requirementOf)
  const secrets = secretMounts(spec)
  const args = [
    ...indexArgs(spec),
    '--constraint uv_constraints.txt --requirement requirements_pip.txt',
  ].join(' ')
  return {
    installer: 'pip',
    stages: [],
    files: [
      ...files,
      { path: 'requirements_pip.txt', content: [...members, ...rootDeps].join('\n') },
      { path: 'uv_constraints.txt', content: pins.join('\n') },
      ...projectFiles(project),
    ],
    secrets,
    commandMounts: [],
    steps: [
      { kind: 'instruction', keyword: 'WORKDIR', args: ['/root'] },
      {
        kind: 'run',
        mounts: [
          PIP_CACHE,
          bind('requirements_pip.txt'),
          bind('uv_constraints.txt'),
          ...(project.files ? [PROJECT_BIND] : []),
        ],
        ...(secrets.length > 0 ? { secrets } : {}),
        command: [
          `${python} -m venv --system-site-packages /root/.venv &&`,
          `/root/.venv/bin/python -m pip install ${args} &&`,
          'chown -R flytekit /root/.venv',
        ],
      },
      { kind: 'instruction', keyword: 'WORKDIR', args: ['/'] },
    ],
  }
}

/** The `builder_options` key that selects an installer family: `{installer: "pip"}` (or `"uv"`, the default). */
export const INSTALLER_OPTION = 'installer'

/**
 * `builder_options: {installer: "pip"}`: a venv made from the base image's Python (`python_exec`, else `python3`;
 * Debian needs python3-venv) and `pip install` into it. No helper image is needed, so it builds where ghcr.io and
 * Docker Hub are unreachable. The venv keeps PEP 668 base images (Debian bookworm) happy.
 */
export const pip: Installer = {
  name: 'pip',
  detect: (spec) =>
    spec.builder_options?.[INSTALLER_OPTION] === 'pip'
      ? { reason: 'builder_options.installer is "pip"' }
      : undefined,
  plan(spec, _d, ctx) {
    const lock = requirementsName(spec)
    if (lock === 'poetry.lock')
      throw new ImagespecError(
        'E_INSTALLER_UNSUPPORTED',
        `The pip installer does not support ${lock} requirements`,
        {
          field: 'requirements',
          hint: 'Remove builder_options.installer to use uv, or give a requirements.txt.',
        },
      )
    const python = shellQuote(spec.python_exec || 'python3')
    if (lock === 'uv.lock') return pipUvLock(spec, ctx, python)
    const secrets = secretMounts(spec)
    const args = [...indexArgs(spec), '--requirement requirements_pip.txt'].join(' ')
    return {
      installer: 'pip',
      stages: [],
      files: [{ path: 'requirements_pip.txt', content: requirementLines(spec, ctx) }],
      secrets,
      commandMounts: [],
      steps: [
        { kind: 'instruction', keyword: 'WORKDIR', args: ['/root'] },
        {
          kind: 'run',
          mounts: [PIP_CACHE, bind('requirements_pip.txt')],
          ...(secrets.length > 0 ? { secrets } : {}),
          command: [
            `${python} -m venv --system-site-packages /root/.venv &&`,
            `/root/.venv/bin/python -m pip install ${args} &&`,
            'chown -R flytekit /root/.venv',
          ],
        },
        { kind: 'instruction', keyword: 'WORKDIR', args: ['/'] },
      ],
    }
  },
}
