// Public API of @imagespec/installers.
export {
  DEFAULT_FLYTEKIT_VERSION,
  DEFAULT_MICROMAMBA_IMAGE,
  DEFAULT_PIP_BASE_IMAGE,
  DEFAULT_UV_IMAGE,
  flytekitRequirement,
  isFlytekit,
  normalizeFlytekitVersion,
  resolveInstallerSettings,
} from './flytekit.js'
export type { InstallerSettings } from './flytekit.js'
export type { Detection, Installer, InstallerContext, PythonProvider } from './types.js'
export { INSTALLER_OPTION, pip } from './pip.js'
export { imagePythonVersion, micromamba, pythonExec, systemPython } from './python.js'
export { poetryLock, uvLock, uvPip, uvVenv } from './uv.js'
export {
  INSTALLER_FAMILIES,
  defaultInstallers,
  defaultPythonProviders,
  planPackages,
  planPython,
} from './select.js'
