// Public option and result types of the driver.
import type { Readable } from 'node:stream'
import type {
  BuildEvent,
  BuildStepSummary,
  CacheExport,
  CacheImport,
  PushEvent,
  RegistryCredentials,
} from '@imagespec/spec'

/**
 * Credentials by registry host (`localhost:5000`, `docker.io`, `https://index.docker.io/v1/`, …), or a function that
 * finds them for a registry (it receives the registry as `normalizeRegistry` of @imagespec/spec names it: `docker.io`
 * for Docker Hub, else `host[:port]`).
 */
export type RegistryAuth =
  | Readonly<Record<string, RegistryCredentials>>
  | ((
      registry: string,
    ) => RegistryCredentials | undefined | Promise<RegistryCredentials | undefined>)

/** A secret's value (already read), or a file to read it from when the build starts. */
export type SecretSource = string | Buffer | { src: string }

export interface DockerClientOptions {
  /** Engine address; default `DOCKER_HOST`, else `unix:///var/run/docker.sock`. */
  host?: string
  /** Environment to read `DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH` and `SSH_AUTH_SOCK` from. */
  env?: Record<string, string | undefined>
}

export interface BuildOptions {
  /** The build context as a tar stream; it is streamed to the engine as it is read. */
  context: Readable
  /** Names for the image, e.g. `localhost:5000/app:1`. */
  tags?: readonly string[]
  /** Path of the Dockerfile inside the context (default `Dockerfile`). */
  dockerfile?: string
  platform?: string
  buildArgs?: Readonly<Record<string, string>>
  labels?: Readonly<Record<string, string>>
  target?: string
  /** `host` gives RUN steps the host's network (needed to reach services on the host's loopback). */
  network?: string
  nocache?: boolean
  /** Always try to pull a newer version of the `FROM` images. */
  pull?: boolean
  /** Secrets for `RUN --mount=type=secret,id=<id>`, by id. Their values never reach an event or an error. */
  secrets?: Readonly<Record<string, SecretSource>>
  /** Registry credentials BuildKit uses to pull `FROM` images. */
  auth?: RegistryAuth
  /** Build caches to import: `{ type: 'registry', ref }` (an image pushed with an inline cache, or a registry cache). */
  cacheFrom?: readonly CacheImport[]
  /** Build caches to export: `inline` (in the image itself) or, on a standalone buildkitd, a registry cache. */
  cacheTo?: readonly CacheExport[]
  /**
   * Push the tags as part of the build, where the builder can (a standalone buildkitd's image exporter): the result
   * then carries `pushed`. Drivers that cannot leave `pushed` unset; push with `push()` afterwards.
   */
  push?: boolean
  /**
   * With `push` on a standalone buildkitd: push by digest only (the image exporter's `push-by-digest=true` and
   * `name-canonical=true`, as buildx's `--output type=image,push-by-digest=true,name-canonical=true`), writing no tag;
   * `tags` then name repositories, and `pushed` carries the manifest digest. Ignored on a Docker engine's BuildKit and
   * on the Engine API (an engine's image store needs a tag: push by digest goes through the registry relay there).
   */
  pushByDigest?: boolean
  /** Aborting cancels the build on the engine; the build rejects with `E_BUILD_CANCELLED`. */
  signal?: AbortSignal
  onEvent?: (event: BuildEvent) => void
}

export type { CacheImport, CacheExport }

export interface BuildResult {
  /** The image id (config digest); on a standalone buildkitd, the manifest digest its exporter reports. */
  imageId: string
  tags: readonly string[]
  steps: BuildStepSummary
  durationMs: number
  /** Set when the build pushed its tags itself (`push: true` on a standalone buildkitd). */
  pushed?: readonly PushResult[]
}

export interface PushOptions {
  auth?: RegistryAuth
  /** Aborting stops the push; it rejects with `E_BUILD_CANCELLED`. */
  signal?: AbortSignal
  onEvent?: (event: PushEvent) => void
}

export interface PushResult {
  ref: string
  /** The manifest digest the registry stored (`sha256:…`). */
  digest: string
  size?: number
}

export interface EngineInfo {
  version: string
  apiVersion: string
  os: string
  arch: string
}

/** What `inspectImage` reports about a local image. */
export interface ImageInfo {
  id: string
  repoTags: readonly string[]
  repoDigests: readonly string[]
  created: string
  size: number
  os: string
  architecture: string
  labels: Readonly<Record<string, string>>
  env: readonly string[]
}
