import type { ImageSpec, LockProject, Logger, PackagePlan, PythonPlan } from '@imagespec/spec'

/** Why a strategy applies (for logs). */
export interface Detection {
  reason: string
}

/** What the strategies may read besides the spec. */
export interface InstallerContext {
  /** Absolute directory that relative paths in the spec resolve against. */
  cwd: string
  /** flytekit's `__version__` for the auto-added pin (see `flytekitRequirement`). */
  flytekitVersion: string
  /** micromamba's `python=` when `python_version` is unset. */
  defaultPythonVersion: string
  /** The pip installer's base image template (see `InstallerSettings.pipBaseImage`); default `python:{python_version}-slim`. */
  pipBaseImage?: string
  /** Called for each user-visible warning, in order (e.g. `uv.lock support is experimental`). */
  warn(message: string): void
  /** Receives one line per strategy attempt. */
  logger?: Logger
  /**
   * The lock-file project (`readLockProject` from @imagespec/spec), read ahead because it is asynchronous: a uv
   * workspace's members and the files `install_project` installs.
   */
  lockProject?: LockProject
}

/** A package-install strategy (flytekit's prepare_python_install). */
export interface Installer {
  readonly name: string
  detect(spec: ImageSpec, ctx: InstallerContext): Detection | undefined
  plan(spec: ImageSpec, detection: Detection, ctx: InstallerContext): PackagePlan
}

/** A Python-provisioning strategy (flytekit's prepare_python_executable). */
export interface PythonProvider {
  readonly name: string
  detect(spec: ImageSpec, ctx: InstallerContext): Detection | undefined
  plan(spec: ImageSpec, detection: Detection, ctx: InstallerContext): PythonPlan
}
