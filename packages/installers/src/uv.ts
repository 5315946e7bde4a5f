import { dirname, resolve } from 'node:path'
import { ImagespecError, type ImageSpec, type PackagePlan } from '@imagespec/spec'
import {
  UV_BINARY, UV_CACHE, bind, indexArgs, requirementLines, requirementsName, secretMounts, uvStage,
} from './_common.js'
import { shellQuote } from './_shell.js'
import type { Installer, InstallerContext } from './types.js'

const VENV_ENV_COMMENT = { kind: 'comment', text: 'Update PATH and UV_PYTHON to point to the venv created by uv sync' } as const

/** flytekit's `_copy_lock_files_into_context`: the lock file, then the pyproject.toml beside it. */
function lockFiles(spec: ImageSpec, lock: string, ctx: InstallerContext): PackagePlan['files'] {
  if (spec.packages !== null)
    throw new ImagespecError('E_SPEC_INVALID', `Support for ${lock} files and packages is mutually exclusive`, {
      field: 'packages',
    })
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

/**
 * With `python_exec`, `UV_PYTHON` already points at `/root/.venv/bin/python` when the lock is installed, but flytekit's
 * lock templates never create that venv, so its build fails (docs/compat.md). The venv is made from `python_exec` first.
 */
const venvFromPythonExec = (spec: ImageSpec): string[] =>
  spec.python_exec ? [`uv venv --python ${shellQuote(spec.python_exec)} --system-site-packages /root/.venv &&`] : []

/** Where poetry itself goes when `python_exec` is set (not into the project's venv). */
const POETRY_TOOL = '/opt/poetry'

/** `requirements: uv.lock` -> `uv sync --locked --no-dev --no-install-project` (experimental in flytekit). */
export const uvLock: Installer = {
  name: 'uv-lock',
  detect: (spec) => (requirementsName(spec) === 'uv.lock' ? { reason: 'requirements is a uv.lock' } : undefined),
  plan(spec, _d, ctx) {
    ctx.warn('uv.lock support is experimental')
    const files = lockFiles(spec, 'uv.lock', ctx)
    const args = [...indexArgs(spec), '--locked --no-dev --no-install-project'].join(' ')
    return {
      installer: 'uv-lock',
      stages: [uvStage(spec, ctx)],
      files,
      secrets: secretMounts(spec),
      commandMounts: [UV_CACHE, UV_BINARY],
      steps: [
        { kind: 'instruction', keyword: 'WORKDIR', args: ['/root'] },
        {
          kind: 'run',
          mounts: [UV_CACHE, UV_BINARY, bind('uv.lock'), bind('pyproject.toml')],
          secrets: secretMounts(spec),
          command: [...venvFromPythonExec(spec), `uv sync ${args} &&`, 'chown -R flytekit /root/.venv'],
        },
        { kind: 'instruction', keyword: 'WORKDIR', args: ['/'] },
        { kind: 'blank' },
        VENV_ENV_COMMENT,
        { kind: 'instruction', keyword: 'ENV', args: ['PATH="/root/.venv/bin:$PATH"', 'UV_PYTHON=/root/.venv/bin/python'] },
      ],
    }
  },
}

/** `requirements: poetry.lock` -> poetry (installed with uv) `poetry install --no-root`. */
export const poetryLock: Installer = {
  name: 'poetry-lock',
  detect: (spec) => (requirementsName(spec) === 'poetry.lock' ? { reason: 'requirements is a poetry.lock' } : undefined),
  plan(spec, _d, ctx) {
    const files = lockFiles(spec, 'poetry.lock', ctx)
    const args = [...indexArgs(spec), '--no-root'].join(' ')
    // With python_exec there is no Python for `uv pip install poetry` yet: poetry gets its own venv from python_exec.
    const exec = spec.python_exec ? shellQuote(spec.python_exec) : undefined
    const installPoetry = exec
      ? [`uv venv --python ${exec} ${POETRY_TOOL} &&`, `uv pip install --python ${POETRY_TOOL}/bin/python poetry`]
      : ['uv pip install poetry']
    const poetry = exec ? `${POETRY_TOOL}/bin/poetry` : 'poetry'
    return {
      installer: 'poetry-lock',
      stages: [uvStage(spec, ctx)],
      files,
      secrets: secretMounts(spec),
      commandMounts: [UV_CACHE, UV_BINARY],
      steps: [
        { kind: 'run', mounts: [UV_CACHE, UV_BINARY], command: installPoetry },
        { kind: 'blank' },
        { kind: 'instruction', keyword: 'ENV', args: ['POETRY_CACHE_DIR=/tmp/poetry_cache', 'POETRY_VIRTUALENVS_IN_PROJECT=true'] },
        { kind: 'blank' },
        { kind: 'comment', text: 'poetry install does not work running in /, so we move to /root to create the venv' },
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
          command: [...venvFromPythonExec(spec), `${poetry} install ${args} &&`, 'chown -R flytekit /root/.venv'],
        },
        { kind: 'instruction', keyword: 'WORKDIR', args: ['/'] },
        { kind: 'blank' },
        { kind: 'comment', text: 'Update PATH and UV_PYTHON to point to venv' },
        // flytekit's template has six spaces before UV_PYTHON here: one more than the continuation.
        { kind: 'instruction', keyword: 'ENV', args: ['PATH="/root/.venv/bin:$PATH"', ' UV_PYTHON=/root/.venv/bin/python'] },
      ],
    }
  },
}

function requirementsPlan(spec: ImageSpec, ctx: InstallerContext, installer: string): Omit<PackagePlan, 'steps'> {
  return {
    installer,
    stages: [uvStage(spec, ctx)],
    files: [{ path: 'requirements_uv.txt', content: requirementLines(spec, ctx) }],
    secrets: secretMounts(spec),
    commandMounts: [UV_CACHE, UV_BINARY],
  }
}

const requirementsArgs = (spec: ImageSpec) => [...indexArgs(spec), '--requirement requirements_uv.txt'].join(' ')

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
