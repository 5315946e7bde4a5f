// Public API of @imagespec/registry.
export { parseReference, formatReference } from './reference.js'
export type { ImageReference } from './reference.js'
export { createProbe, probeImage, MEDIA_TYPES } from './probe.js'
export type { ExistenceResult, Prober, ProbeManyOptions, ProbeOptions, ProbeRequestOptions, ProbeResult, UnknownReason } from './probe.js'
export { resolveCredentials } from './credentials.js'
export type { RegistryCredentials, CredentialOptions } from './credentials.js'
