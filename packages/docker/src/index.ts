// Public API of @imagespec/docker.
export { createDockerClient, DockerDriver } from './driver.js'
export type {
  BuildOptions,
  BuildResult,
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
