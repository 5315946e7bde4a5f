// Public API of @imagespec/builder-buildah. The default export is the builder factory the engine loads.
export { buildahBuilder, budArgv, pushArgv } from './buildah.js'
export type { BuildahOptions } from './buildah.js'
export { buildahBuilder as default } from './buildah.js'
