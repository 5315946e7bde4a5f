// Public API of @imagespec/spec.
export { ImagespecError, isImagespecError } from './errors.js'
export type { ErrorCode, ImagespecErrorOptions } from './errors.js'
export { PyFloat, IMAGE_SPEC_FIELDS } from './types.js'
export type { ImageSpec, CopyMode, PyValue, LoadedSpec } from './types.js'
export {
  imageSpecSchema,
  imageSpecJsonSchema,
  createImageSpecSchema,
  hostMachine,
  isValidRegistry,
  invalidRegistryMessage,
  parseCopyMode,
  LIST_OF_STRING_FIELDS,
} from './schema.js'
export type { NormalizeOptions, ImageSpecInput } from './schema.js'
export { normalizeSpec, specFromObject, str2bool } from './normalize.js'
export type { SpecFromObjectOptions } from './normalize.js'
export { loadSpec, parseSpecText } from './load.js'
export type { LoadSpecOptions } from './load.js'
export { pyRepr, pyStr, pyFloatRepr, PyTuple, PyEnum } from './_pyrepr.js'
export type { PyReprValue } from './_pyrepr.js'
export { computeId, idPreimage, computeTag, imageName, describeIdentity } from './identity.js'
export type { IdentityOptions, IdentityDescription, HashCall } from './identity.js'
export { listSourceFiles, copyDigest, requirementsDigest, EMPTY_MD5 } from './digest.js'
export type { ListSourceFilesOptions } from './digest.js'
export { STANDARD_IGNORE_PATTERNS } from './ignore.js'
export * from './plan.js'
export * from './contract.js'
export * from './events.js'
