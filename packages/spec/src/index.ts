// Public API of @imagespec/spec.
export { ImagespecError, isImagespecError } from './errors.js'
export type { ErrorCode, ImagespecErrorOptions } from './errors.js'
export { PyFloat, IMAGE_SPEC_FIELDS } from './types.js'
export type { ImageSpec, CopyMode, PyValue, LoadedSpec } from './types.js'
export * from './plan.js'
export * from './contract.js'
export * from './events.js'
