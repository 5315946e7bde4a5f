import { ImagespecError, pyStr, type ImageSpec } from '@imagespec/spec'
import { micromambaStage } from './_common.js'
import { shellQuote } from './_shell.js'
import type { PythonProvider } from './types.js'
import { INSTALLER_OPTION } from './pip.js'

const VENV = { pathPrefix: '/root/.venv/bin', python: '/root/.venv/bin/python' }

function refuseConda(spec: ImageSpec, suffix: string, code: 'E_SPEC_INVALID' | 'E_INSTALLER_UNSUPPORTED'): void {
  for (const field of ['conda_channels', 'conda_packages'] as const)
    if (spec[field]) throw new ImagespecError(code, `${field} is not supported with ${suffix}`, { field })
}

/** The pip installer: the base image's own Python, no helper stage (the venv is made by the install step). */
export const systemPython: PythonProvider = {
  name: 'system-python',
  detect: (spec) =>
    spec.builder_options?.[INSTALLER_OPTION] === 'pip' ? { reason: 'builder_options.installer is "pip"' } : undefined,
  plan(spec, _d, ctx) {
    refuseConda(spec, 'the pip installer', 'E_INSTALLER_UNSUPPORTED')
    if (spec.python_version)
      ctx.warn(`python_version "${pyStr(spec.python_version)}" is not provisioned by the pip installer: the base image's Python is used`)
    return { provider: 'system-python', stages: [], steps: [], ...VENV }
  },
}

/** `python_exec` set: no provisioning (flytekit still declares the micromamba stage, for the CA certificates). */
export const pythonExec: PythonProvider = {
  name: 'python-exec',
  detect: (spec) => (spec.python_exec ? { reason: 'python_exec is set' } : undefined),
  plan(spec, _d, ctx) {
    refuseConda(spec, 'python_exec', 'E_SPEC_INVALID')
    return { provider: 'python-exec', stages: [micromambaStage(spec, ctx)], caCertificatesFrom: 'micromamba', steps: [], ...VENV }
  },
}

/** The default: a micromamba env `runtime` with `python=<version>` plus conda channels and packages. */
export const micromamba: PythonProvider = {
  name: 'micromamba',
  detect: () => ({ reason: 'default' }),
  plan(spec, _d, ctx) {
    const version = spec.python_version ? pyStr(spec.python_version) : ctx.defaultPythonVersion
    const channels = (spec.conda_channels ?? []).map((c) => `-c ${shellQuote(c)}`).join(' ')
    const packages = (spec.conda_packages ?? []).map(shellQuote).join(' ')
    const python = shellQuote(`python=${version}`)
    const env = (verb: string) => [
      `${verb} -n runtime --root-prefix /opt/micromamba`,
      `-c conda-forge ${channels}`,
      `${python} ${packages}`,
    ]
    const [c1, c2, c3] = env('( micromamba create')
    const [i1, i2, i3] = env('|| micromamba install')
    return {
      provider: 'micromamba',
      stages: [micromambaStage(spec, ctx)],
      caCertificatesFrom: 'micromamba',
      pathPrefix: '/opt/micromamba/envs/runtime/bin',
      python: '/opt/micromamba/envs/runtime/bin/python',
      steps: [
        {
          kind: 'run',
          mounts: [
            { type: 'cache', target: '/opt/micromamba/pkgs', id: 'micromamba' },
            { type: 'from', from: 'micromamba', source: '/usr/bin/micromamba', target: '/usr/bin/micromamba' },
          ],
          command: ['micromamba config set use_lockfiles False &&', c1, c2, c3, i1, i2, `${i3} ) &&`, 'chown -R flytekit /opt/micromamba'],
        },
      ],
    }
  },
}
