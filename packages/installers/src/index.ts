// Public API of @imagespec/installers.
export { DEFAULT_FLYTEKIT_VERSION, flytekitRequirement, isFlytekit, normalizeFlytekitVersion, resolveInstallerSettings } from './_flytekit.js'
export type { InstallerSettings } from './_flytekit.js'
export { DEFAULT_MICROMAMBA_IMAGE, DEFAULT_UV_IMAGE } from './_common.js'
export type { Detection, Installer, InstallerContext, InstallerLogger, PythonProvider } from './_types.js'
export { INSTALLER_OPTION, pip } from './pip.js'
export { micromamba, pythonExec, systemPython } from './python.js'
export { poetryLock, uvLock, uvPip, uvVenv } from './uv.js'
export { INSTALLER_FAMILIES, defaultInstallers, defaultPythonProviders, planPackages, planPython } from './select.js'
