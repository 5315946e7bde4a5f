// Public API of @imagespec/spec.
export { ImagespecError, isImagespecError } from './errors.js'
export type { ErrorCode, ImagespecErrorOptions } from './errors.js'
export { PyFloat, IMAGE_SPEC_FIELDS } from './types.js'
export type { ImageSpec, CopyMode, PyValue, EnvValue, LoadedSpec } from './types.js'
export { pyDict, dictEntries, dictKeyName } from './dict.js'
export type { DictKey } from './dict.js'
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
export { pyRepr, pyStr, pyFloatRepr, PyTuple, PyEnum } from './pyrepr.js'
export type { PyReprValue } from './pyrepr.js'
export { computeId, idPreimage, computeTag, imageName, describeIdentity } from './identity.js'
export type { IdentityOptions, IdentityDescription, HashCall } from './identity.js'
export {
  EXPLAIN_LABEL,
  EXPLAIN_LABEL_MAX,
  explainSpec,
  explanationDigest,
  explainLabel,
  parseExplainLabel,
  diffExplanations,
} from './explain.js'
export type { Explanation, ExplainedFiles, ExplanationDigest } from './explain.js'
export {
  listSourceFiles,
  createSourceWalks,
  copyDigest,
  copyEntryStat,
  entryKind,
  realRoot,
  requirementsDigest,
  checkRequirementsFile,
  EMPTY_MD5,
} from './digest.js'
export type { EntryKind } from './digest.js'
export type { ListSourceFilesOptions, SourceWalks } from './digest.js'
export { STANDARD_IGNORE_PATTERNS } from './ignore.js'
export {
  INSTALL_PROJECT_OPTION,
  installProjectOption,
  readLockProject,
  readUvLock,
  specUvLock,
  uvProjectFiles,
  uvWorkspaceDigest,
} from './uv-project.js'
export type { LockProject, UvLock, UvLockDependency, UvLockPackage } from './uv-project.js'
export { resolveModuleFiles } from './modules.js'
export type {
  BuildContextPlan,
  ContextFile,
  DockerfileStep,
  HelperStage,
  InstallPlan,
  PackagePlan,
  PythonPlan,
  RunMount,
  SecretMount,
} from './plan.js'
export { BUILDER_CONTRACT_VERSION, defineBuilder, isBuilderPlugin } from './contract.js'
export type {
  BuildDescription,
  BuilderCapabilities,
  BuilderContext,
  BuilderEvent,
  BuilderMessage,
  BuilderPlugin,
  BuildRequest,
  BuildResult,
  PlatformOutcome,
} from './contract.js'
export type { BuildEvent, BuildStep, BuildStepSummary, PlatformEvent, PushEvent } from './events.js'
// Shared Docker concepts: one home for the image-reference grammar, registry credentials, build caches and the logger.
export {
  parseReference,
  formatReference,
  normalizeRegistry,
  isLoopbackHost,
  DOCKER_HUB,
  DOCKER_HUB_API_HOST,
  DOCKER_HUB_AUTH_SERVER,
} from './image-ref.js'
export type { ImageReference, LoopbackHostOptions } from './image-ref.js'
export type { RegistryCredentials } from './credentials.js'
export type { CacheImport, CacheExport } from './build-cache.js'
export type { Logger } from './logger.js'
