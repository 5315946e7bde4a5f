import { ImagespecError, type ImageSpec, type PackagePlan, type PythonPlan } from '@imagespec/spec'
import type { Detection, Installer, InstallerContext, PythonProvider } from './types.js'
import { INSTALLER_OPTION, pip } from './pip.js'
import { micromamba, pythonExec, systemPython } from './python.js'
import { poetryLock, uvLock, uvPip, uvVenv } from './uv.js'

/** Package installers, most specific first; `uv-pip` always matches. */
export const defaultInstallers: readonly Installer[] = [pip, uvLock, poetryLock, uvVenv, uvPip]
/** Python providers, most specific first; `micromamba` always matches. */
export const defaultPythonProviders: readonly PythonProvider[] = [
  systemPython,
  pythonExec,
  micromamba,
]

/** Values of `builder_options.installer`. */
export const INSTALLER_FAMILIES = ['uv', 'pip'] as const

function checkInstallerOption(spec: ImageSpec): void {
  const value = spec.builder_options?.[INSTALLER_OPTION]
  if (value === undefined || (INSTALLER_FAMILIES as readonly unknown[]).includes(value)) return
  throw new ImagespecError(
    'E_INSTALLER_NOT_FOUND',
    `Unknown installer ${JSON.stringify(value)} in builder_options.installer`,
    {
      field: 'builder_options',
      hint: `Use one of: ${INSTALLER_FAMILIES.join(', ')}.`,
    },
  )
}

type Strategy<P> = {
  name: string
  detect(s: ImageSpec, c: InstallerContext): Detection | undefined
  plan(s: ImageSpec, d: Detection, c: InstallerContext): P
}

/** The first strategy whose `detect` matches plans; every attempt is logged by name. */
function first<P>(
  kind: string,
  list: readonly Strategy<P>[],
  spec: ImageSpec,
  ctx: InstallerContext,
): P {
  checkInstallerOption(spec)
  for (const s of list) {
    const d = s.detect(spec, ctx)
    ctx.logger?.debug(`${kind} ${s.name}: ${d ? `selected (${d.reason})` : 'not applicable'}`)
    if (d) return s.plan(spec, d, ctx)
  }
  throw new ImagespecError('E_INSTALLER_NOT_FOUND', `No ${kind} applies to this spec`)
}

/** flytekit's prepare_python_install: writes nothing, returns the plan (files to place, steps, secrets). */
export const planPackages = (
  spec: ImageSpec,
  ctx: InstallerContext,
  installers: readonly Installer[] = defaultInstallers,
): PackagePlan => first('installer', installers, spec, ctx)

/** flytekit's prepare_python_executable. */
export const planPython = (
  spec: ImageSpec,
  ctx: InstallerContext,
  providers: readonly PythonProvider[] = defaultPythonProviders,
): PythonPlan => first('python provider', providers, spec, ctx)
