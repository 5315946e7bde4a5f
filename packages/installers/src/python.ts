import { ImagespecError, pyStr, type ImageSpec } from '@imagespec/spec'
import { micromambaStage } from './_common.js'
import { shellQuote } from './_shell.js'
import type { PythonProvider } from './types.js'
import { DEFAULT_PIP_BASE_IMAGE } from './flytekit.js'
import { INSTALLER_OPTION } from './pip.js'

const VENV = { pathPrefix: '/root/.venv/bin', python: '/root/.venv/bin/python' }

function refuseConda(
  spec: ImageSpec,
  suffix: string,
  code: 'E_SPEC_INVALID' | 'E_INSTALLER_UNSUPPORTED',
): void {
  for (const field of ['conda_channels', 'conda_packages'] as const)
    if (spec[field])
      throw new ImagespecError(code, `${field} is not supported with ${suffix}`, { field })
}

/** The Python version an image reference names, when it is a Python image tagged by version (`python:3.12-slim`). */
export function imagePythonVersion(image: string): string | undefined {
  const m = /^(?:.*\/)?[^/:@]*python[^/:@]*:v?(\d+)\.(\d+)(?![\d])/i.exec(image)
  return m ? `${m[1]}.${m[2]}` : undefined
}

/** `python_version` as major.minor (`3.11.4` -> `3.11`), or undefined when it is not a version. */
function majorMinor(version: string): string | undefined {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(version)
  return m ? `${m[1]}.${m[2]}` : undefined
}

/**
 * The pip installer: the base image's own Python, no helper stage (the venv is made by the install step). Without a
 * `base_image` the base is `python:<python_version>-slim` (the `pipBaseImage` template), which has that Python; with
 * one, a Python version its tag names that differs from `python_version` is warned about.
 */
export const systemPython: PythonProvider = {
  name: 'system-python',
  detect: (spec) =>
    spec.builder_options?.[INSTALLER_OPTION] === 'pip'
      ? { reason: 'builder_options.installer is "pip"' }
      : undefined,
  plan(spec, _d, ctx) {
    refuseConda(spec, 'the pip installer', 'E_INSTALLER_UNSUPPORTED')
    const version =
      spec.python_version === null ? ctx.defaultPythonVersion : pyStr(spec.python_version)
    if (spec.python_version !== null && typeof spec.python_version !== 'string')
      ctx.warn(
        `python_version ${version} is a number, not a string: quote it (YAML reads 3.10 as 3.1)`,
      )
    const plan = { provider: 'system-python', stages: [], steps: [], ...VENV }
    if (typeof spec.base_image !== 'string' || spec.base_image === '') {
      if (!/^[0-9A-Za-z._-]+$/.test(version))
        throw new ImagespecError(
          'E_SPEC_INVALID',
          `python_version: "${version}" cannot name a Python base image`,
          {
            field: 'python_version',
            hint: 'Use a version such as "3.12", or set base_image to an image that has Python',
          },
        )
      return {
        ...plan,
        defaultBaseImage: (ctx.pipBaseImage ?? DEFAULT_PIP_BASE_IMAGE).replaceAll(
          '{python_version}',
          version,
        ),
      }
    }
    if (spec.python_version === null) return plan
    const has = imagePythonVersion(spec.base_image)
    if (has === undefined)
      ctx.warn(
        `python_version "${version}" is not provisioned by the pip installer: the Python of base_image "${spec.base_image}" is used`,
      )
    else if (has !== majorMinor(version))
      ctx.warn(
        `base_image "${spec.base_image}" has Python ${has}, but python_version is "${version}": the pip installer uses the base image's Python ${has}`,
      )
    return plan
  },
}

/** `python_exec` set: no provisioning (flytekit still declares the micromamba stage, for the CA certificates). */
export const pythonExec: PythonProvider = {
  name: 'python-exec',
  detect: (spec) => (spec.python_exec ? { reason: 'python_exec is set' } : undefined),
  plan(spec, _d, ctx) {
    refuseConda(spec, 'python_exec', 'E_SPEC_INVALID')
    return {
      provider: 'python-exec',
      stages: [micromambaStage(spec, ctx)],
      caCertificatesFrom: 'micromamba',
      steps: [],
      ...VENV,
    }
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
            {
              type: 'from',
              from: 'micromamba',
              source: '/usr/bin/micromamba',
              target: '/usr/bin/micromamba',
            },
          ],
          command: [
            'micromamba config set use_lockfiles False &&',
            c1,
            c2,
            c3,
            i1,
            i2,
            `${i3} ) &&`,
            'chown -R flytekit /opt/micromamba',
          ],
        },
      ],
    }
  },
}
