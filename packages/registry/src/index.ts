// Public API of @imagespec/registry. Image references and registry credentials are @imagespec/spec's.
export { createProbe, probeImage } from './probe.js'
export { MEDIA_TYPES } from './types.js'
export type {
  ExistenceResult,
  Prober,
  ProbeManyOptions,
  ProbeOptions,
  ProbeRequestOptions,
  ProbeResult,
  UnknownReason,
} from './types.js'
export { checkDockerConfig, resolveCredentials } from './credentials.js'
export type { CredentialOptions } from './credentials.js'
export {
  createRegistryWriter,
  createIndex,
  entryPlatform,
  formatPlatform,
  parsePlatform,
  platformMatches,
} from './writer.js'
export type {
  IndexEntry,
  ManifestDocument,
  MountedBlob,
  Platform,
  PushRelay,
  PushRelayOptions,
  RegistryWriter,
  WriteCallOptions,
  WriterOptions,
} from './writer.js'
