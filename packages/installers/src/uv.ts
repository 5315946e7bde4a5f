import type { DockerfileStep, ImageSpec, PackagePlan, RunMount } from '@imagespec/spec'
import {
  UV_BINARY,
  UV_CACHE,
  bind,
  indexArgs,
  requirementLines,
  requirementsName,
  secretMounts,
  uvStage,
} from './_common.js'
import {
  PROJECT_BIND,
  PROJECT_CONTEXT_DIR,
  PROJECT_MOUNT,
  lockFiles,
  lockProjectOf,
  projectFiles,
  warnUnhashedProject,
} from './_project.js'
import { shellQuote } from './_shell.js'
import type { Installer, InstallerContext } from './types.js'

const VENV_ENV_COMMENT = {
  kind: 'comment',
  text: 'Update PATH and UV_PYTHON to point to the venv created by uv sync',
} as const

/**
 * With `python_exec`, `UV_PYTHON` already points at `/root/.venv/bin/python` when the lock is installed, but flytekit's
 * lock templates never create that venv, so its build fails (docs/compat.md). The venv is made from `python_exec` first.
 */
const venvFromPythonExec = (spec: ImageSpec): string[] =>
  spec.python_exec
    ? [`uv venv --python ${shellQuote(spec.python_exec)} --system-site-packages /root/.venv &&`]
    : []

/** Where poetry itself goes when `python_exec` is set (not into the project's venv). */
const POETRY_TOOL = '/opt/poetry'

/** `requirements: uv.lock` -> `uv sync --locked --no-dev --no-install-project` (experimental in flytekit). */
export const uvLock: Installer = {
  name: 'uv-lock',
  detect: (spec) =>
    requirementsName(spec) === 'uv.lock' ? { reason: 'requirements is a uv.lock' } : undefined,
  plan(spec, _d, ctx) {
    ctx.warn('uv.lock support is experimental')
    const files = lockFiles(spec, 'uv.lock', ctx)
    const project = lockProjectOf(ctx, 'uv.lock')
    warnUnhashedProject(project, ctx)
    // A workspace: the members' pyproject.toml files are mounted in their places for the locked dependency step,
    // which installs third-party packages only; the members (and the project) follow from their sources.
    const members = project?.workspace ? project.uvLock!.members : []
    const memberBinds: RunMount[] = members.map((m) => ({
      type: 'bind',
      target: `${m.path}/pyproject.toml`,
      src: `${PROJECT_CONTEXT_DIR}/${m.path}/pyproject.toml`,
    }))
    const args = [
      ...indexArgs(spec),
      '--locked --no-dev --no-install-project',
      ...(members.length ? ['--no-install-workspace'] : []),
    ].join(' ')
    const projectStep: DockerfileStep[] = project?.files
      ? [
          {
            kind: 'run',
            mounts: [UV_CACHE, UV_BINARY, PROJECT_BIND],
            ...(secretMounts(spec).length ? { secrets: secretMounts(spec) } : {}),
            command: [
              `cd ${PROJECT_MOUNT} &&`,
              `UV_PROJECT_ENVIRONMENT=/root/.venv uv sync ${[...indexArgs(spec), '--locked --no-dev --no-editable', ...(project.installProject ? [] : ['--no-install-project'])].join(' ')} &&`,
              'chown -R flytekit /root/.venv',
            ],
          },
        ]
      : []
    return {
      installer: 'uv-lock',
      stages: [uvStage(spec, ctx)],
      files: [...files, ...projectFiles(project)],
      secrets: secretMounts(spec),
      commandMounts: [UV_CACHE, UV_BINARY],
      steps: [
        { kind: 'instruction', keyword: 'WORKDIR', args: ['/root'] },
        {
          kind: 'run',
          mounts: [UV_CACHE, UV_BINARY, bind('uv.lock'), bind('pyproject.toml'), ...memberBinds],
          secrets: secretMounts(spec),
          command: [
            ...venvFromPythonExec(spec),
            `uv sync ${args} &&`,
            'chown -R flytekit /root/.venv',
          ],
        },
        ...projectStep,
        { kind: 'instruction', keyword: 'WORKDIR', args: ['/'] },
        { kind: 'blank' },
        VENV_ENV_COMMENT,
        {
          kind: 'instruction',
          keyword: 'ENV',
          args: ['PATH="/root/.venv/bin:$PATH"', 'UV_PYTHON=/root/.venv/bin/python'],
        },
      ],
    }
  },
}

/** `requirements: poetry.lock` -> poetry (installed with uv) `poetry install --no-root`. */
export const poetryLock: Installer = {
  name: 'poetry-lock',
  detect: (spec) =>
    requirementsName(spec) === 'poetry.lock'
      ? { reason: 'requirements is a poetry.lock' }
      : undefined,
  plan(spec, _d, ctx) {
    const files = lockFiles(spec, 'poetry.lock', ctx)
    const project = lockProjectOf(ctx, 'poetry.lock')
    warnUnhashedProject(project, ctx)
    const args = [...indexArgs(spec), '--no-root'].join(' ')
    // With python_exec there is no Python for `uv pip install poetry` yet: poetry gets its own venv from python_exec.
    const exec = spec.python_exec ? shellQuote(spec.python_exec) : undefined
    const installPoetry = exec
      ? [
          `uv venv --python ${exec} ${POETRY_TOOL} &&`,
          `uv pip install --python ${POETRY_TOOL}/bin/python poetry`,
        ]
      : ['uv pip install poetry']
    const poetry = exec ? `${POETRY_TOOL}/bin/poetry` : 'poetry'
    // install_project: poetry installs the root only as an editable link, so the project is built into a wheel
    // (poetry build, from a writable mount) and that wheel is installed into the venv.
    const projectStep: DockerfileStep[] = project?.files
      ? [
          {
            kind: 'run',
            mounts: [UV_CACHE, UV_BINARY, PROJECT_BIND],
            command: [
              `cd ${PROJECT_MOUNT} &&`,
              'rm -rf dist &&',
              `${poetry} build --format wheel &&`,
              'uv pip install --python /root/.venv/bin/python --no-deps dist/*.whl &&',
              'chown -R flytekit /root/.venv',
            ],
          },
        ]
      : []
    return {
      installer: 'poetry-lock',
      stages: [uvStage(spec, ctx)],
      files: [...files, ...projectFiles(project)],
      secrets: secretMounts(spec),
      commandMounts: [UV_CACHE, UV_BINARY],
      steps: [
        { kind: 'run', mounts: [UV_CACHE, UV_BINARY], command: installPoetry },
        { kind: 'blank' },
        {
          kind: 'instruction',
          keyword: 'ENV',
          args: ['POETRY_CACHE_DIR=/tmp/poetry_cache', 'POETRY_VIRTUALENVS_IN_PROJECT=true'],
        },
        { kind: 'blank' },
        {
          kind: 'comment',
          text: 'poetry install does not work running in /, so we move to /root to create the venv',
        },
        { kind: 'instruction', keyword: 'WORKDIR', args: ['/root'] },
        { kind: 'blank' },
        {
          kind: 'run',
          mounts: [
            { type: 'cache', target: '/tmp/poetry_cache', id: 'poetry' },
            ...(exec ? [UV_BINARY] : []),
            bind('poetry.lock'),
            bind('pyproject.toml'),
          ],
          secrets: secretMounts(spec),
          command: [
            ...venvFromPythonExec(spec),
            `${poetry} install ${args} &&`,
            'chown -R flytekit /root/.venv',
          ],
        },
        ...projectStep,
        { kind: 'instruction', keyword: 'WORKDIR', args: ['/'] },
        { kind: 'blank' },
        { kind: 'comment', text: 'Update PATH and UV_PYTHON to point to venv' },
        // flytekit's template has six spaces before UV_PYTHON here: one more than the continuation.
        {
          kind: 'instruction',
          keyword: 'ENV',
          args: ['PATH="/root/.venv/bin:$PATH"', ' UV_PYTHON=/root/.venv/bin/python'],
        },
      ],
    }
  },
}

function requirementsPlan(
  spec: ImageSpec,
  ctx: InstallerContext,
  installer: string,
): Omit<PackagePlan, 'steps'> {
  return {
    installer,
    stages: [uvStage(spec, ctx)],
    files: [{ path: 'requirements_uv.txt', content: requirementLines(spec, ctx) }],
    secrets: secretMounts(spec),
    commandMounts: [UV_CACHE, UV_BINARY],
  }
}

const requirementsArgs = (spec: ImageSpec) =>
  [...indexArgs(spec), '--requirement requirements_uv.txt'].join(' ')

/** `python_exec` set: a venv from that interpreter (`--system-site-packages`, for PEP 668 images), then `uv pip install`. */
export const uvVenv: Installer = {
  name: 'uv-venv',
  detect: (spec) => (spec.python_exec ? { reason: 'python_exec is set' } : undefined),
  plan(spec, _d, ctx) {
    return {
      ...requirementsPlan(spec, ctx, 'uv-venv'),
      steps: [
        { kind: 'instruction', keyword: 'WORKDIR', args: ['/root'] },
        {
          kind: 'run',
          mounts: [UV_CACHE, UV_BINARY, bind('requirements_uv.txt')],
          secrets: secretMounts(spec),
          command: [
            `uv venv --python ${shellQuote(spec.python_exec!)} --system-site-packages /root/.venv &&`,
            `uv pip install --python /root/.venv/bin/python ${requirementsArgs(spec)} &&`,
            'chown -R flytekit /root/.venv',
          ],
        },
        { kind: 'instruction', keyword: 'WORKDIR', args: ['/'] },
      ],
    }
  },
}

/** The default: `requirements_uv.txt` installed with `uv pip install` into the provisioned Python. */
export const uvPip: Installer = {
  name: 'uv-pip',
  detect: () => ({ reason: 'default' }),
  plan(spec, _d, ctx) {
    return {
      ...requirementsPlan(spec, ctx, 'uv-pip'),
      steps: [
        {
          kind: 'run',
          mounts: [UV_CACHE, UV_BINARY, bind('requirements_uv.txt')],
          secrets: secretMounts(spec),
          command: [`uv pip install ${requirementsArgs(spec)}`],
        },
      ],
    }
  },
}
