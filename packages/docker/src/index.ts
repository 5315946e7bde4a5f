// Public API of @imagespec/docker.
export { createDockerClient, DockerDriver } from './driver.js'
export type {
  BuildOptions,
  BuildResult,
  CacheExport,
  CacheImport,
  DockerClientOptions,
  EngineInfo,
  ImageInfo,
  PushOptions,
  PushResult,
  RegistryAuth,
  SecretSource,
} from './types.js'
export { parseDockerHost, DEFAULT_DOCKER_HOST } from './docker-host.js'
export type { DockerHost } from './docker-host.js'
export { makeScrubber, SCRUBBED } from './scrub.js'
export { createBuildkitClient, BuildkitDriver } from './buildkit/driver.js'
export type { BuildkitClientOptions } from './buildkit/driver.js'
export { parseBuildkitHost, DEFAULT_BUILDKIT_HOST } from './buildkit/endpoint.js'
export type { BuildkitEndpoint, BuildkitTls } from './buildkit/endpoint.js'
export { resolveDockerEndpoint } from './docker-context.js'
export type { DockerEndpoint } from './docker-context.js'
