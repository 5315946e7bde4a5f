import { ImagespecError } from '@imagespec/spec'
import { bind, indexArgs, requirementLines, requirementsName, secretMounts } from './_common.js'
import { shellQuote } from './_shell.js'
import type { Installer } from './types.js'

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
    spec.builder_options?.[INSTALLER_OPTION] === 'pip' ? { reason: 'builder_options.installer is "pip"' } : undefined,
  plan(spec, _d, ctx) {
    const lock = requirementsName(spec)
    if (lock === 'uv.lock' || lock === 'poetry.lock')
      throw new ImagespecError('E_INSTALLER_UNSUPPORTED', `The pip installer does not support ${lock} requirements`, {
        field: 'requirements',
        hint: 'Remove builder_options.installer to use uv, or give a requirements.txt.',
      })
    const python = shellQuote(spec.python_exec || 'python3')
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
          mounts: [{ type: 'cache', target: '/root/.cache/pip', id: 'pip' }, bind('requirements_pip.txt')],
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
