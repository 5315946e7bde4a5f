import { randomUUID } from 'node:crypto'
import { ImagespecError, isImagespecError } from '@imagespec/spec'
import { findCredentials, toSessionCredentials } from '../_auth.js'
import { refuseRegistryCacheExport } from '../_cache.js'
import { BuildProgress } from '../_progress.js'
import { decodeStatusBytes } from '../_protos.js'
import { prepareSecrets } from '../_secrets.js'
import { serveSession, sessionMethods } from '../_session.js'
import { cancelled, DockerDriver } from '../driver.js'
import { tlsConnectionError } from '../docker-host.js'
import { ContextTree } from '../session/_filesync.js'
import type {
  BuildOptions,
  BuildResult,
  DockerClientOptions,
  ImageInfo,
  PushOptions,
  PushResult,
} from '../types.js'
import { GrpcClient, GrpcError, GRPC } from './_grpc.js'
import { hijackSession } from './_hijack.js'
import {
  decodeSolveResponse,
  decodeWorkerPlatforms,
  encodeSolveRequest,
  encodeStatusRequest,
  type CacheEntry,
} from './_wire.js'
import { connectBuildkit, parseBuildkitHost, type BuildkitEndpoint } from './endpoint.js'

const CONTROL = '/moby.buildkit.v1.Control'

export interface BuildkitClientOptions {
  /** BuildKit address; default `BUILDKIT_HOST`. */
  host?: string
  /** Environment to read `BUILDKIT_HOST`, `BUILDKIT_TLS_*`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` from. */
  env?: Record<string, string | undefined>
}

/** Creates a driver for the BuildKit named by `opts.host` or `BUILDKIT_HOST`. */
export function createBuildkitClient(opts: BuildkitClientOptions = {}): BuildkitDriver {
  return new BuildkitDriver(opts)
}

/**
 * The BuildKit driver: builds through BuildKit's own control API (`moby.buildkit.v1.Control` Solve and Status) with
 * the Dockerfile frontend, serving the context, secrets and registry credentials over a session. On a Docker
 * engine's BuildKit (`dockerd+…`) the engine's image exporter writes the image into the engine's store, and push,
 * tag and inspect go through the Engine API; the Engine API's `/build` is never called.
 */
export class BuildkitDriver {
  readonly endpoint: BuildkitEndpoint
  /** The Docker engine around an embedded BuildKit (`dockerd+…` endpoints), else undefined. */
  readonly engine?: DockerDriver

  constructor(opts: BuildkitClientOptions = {}) {
    const env = opts.env ?? process.env
    this.endpoint = parseBuildkitHost(opts.host ?? env.BUILDKIT_HOST, env)
    if (this.endpoint.kind === 'dockerd') {
      const engineOpts: DockerClientOptions = {
        host: this.endpoint.address.slice('dockerd+'.length),
        env,
      }
      this.engine = new DockerDriver(engineOpts)
    }
  }

  /**
   * Opens a connection and checks that BuildKit answers (`Control.ListWorkers`); throws `E_ENGINE_UNAVAILABLE`.
   * Resolves the first worker's first platform, its own (the others it lists run under emulation).
   */
  async ping(timeoutMs = 5000): Promise<{ os: string; arch: string; variant?: string }> {
    const client = await this.connect()
    let platform: { os: string; arch: string; variant: string } | undefined
    try {
      const call = client.call(`${CONTROL}/ListWorkers`, (m) => {
        platform ??= decodeWorkerPlatforms(m).flat()[0]
      })
      call.write(new Uint8Array())
      call.end()
      const timeout = AbortSignal.timeout(timeoutMs)
      await Promise.race([
        call.done,
        new Promise((_, reject) =>
          timeout.addEventListener('abort', () => reject(timeout.reason as Error)),
        ),
      ])
    } catch (err) {
      throw this.unavailable(err)
    } finally {
      client.close()
    }
    return {
      os: platform?.os ?? '',
      arch: platform?.arch ?? '',
      ...(platform?.variant && { variant: platform.variant }),
    }
  }

  /** Builds with the Dockerfile frontend (`dockerfile.v0`); rejects with `E_BUILD_FAILED`. */
  async build(opts: BuildOptions): Promise<BuildResult> {
    const started = Date.now()
    const emit = opts.onEvent ?? (() => {})
    const { signal } = opts
    const { secrets, scrub } = await prepareSecrets(opts)
    const exports = this.cacheExports(opts)
    const tags = [...(opts.tags ?? [])]
    const standalonePush = Boolean(opts.push) && this.endpoint.kind !== 'dockerd' && tags.length > 0
    if (signal?.aborted) throw cancelled()
    const tree = await ContextTree.fromTar(opts.context).catch((err: unknown) => {
      throw isImagespecError(err)
        ? err
        : new ImagespecError('E_CONTEXT', 'Cannot read the build context', { cause: err })
    })
    const client = await this.connect()
    const sessionId = randomUUID()
    const services = {
      secrets,
      credentials: async (host: string) =>
        toSessionCredentials(await findCredentials(opts.auth, host)),
      dirs: new Map([
        ['context', tree],
        ['dockerfile', tree],
      ]),
    }
    const stopSession = serveSession(
      hijackSession(client, {
        'x-docker-expose-session-uuid': sessionId,
        'x-docker-expose-session-name': 'imagespec',
        'x-docker-expose-session-sharedkey': sessionId,
        'x-docker-expose-session-grpc-method': sessionMethods(services),
      }),
      services,
    )
    const ref = randomUUID().replace(/-/g, '')
    const progress = new BuildProgress(emit, scrub)
    const status = client.call(`${CONTROL}/Status`, (m) =>
      progress.handleStatus(decodeStatusBytes(m)),
    )
    status.write(encodeStatusRequest(ref))
    status.end()
    let response: Record<string, string> | undefined
    const solve = client.call(`${CONTROL}/Solve`, (m) => (response = decodeSolveResponse(m)))
    const abort = () => {
      solve.cancel()
      status.cancel()
    }
    signal?.addEventListener('abort', abort, { once: true })
    try {
      solve.write(
        encodeSolveRequest({
          Ref: ref,
          Session: sessionId,
          Frontend: 'dockerfile.v0',
          FrontendAttrs: this.frontendAttrs(opts),
          ...imageExporter(this.endpoint.kind, tags, standalonePush, opts.pushByDigest === true),
          Cache: {
            Imports: (opts.cacheFrom ?? []).map((c) => ({ Type: c.type, Attrs: { ref: c.ref } })),
            Exports: exports,
          },
          Entitlements: opts.network === 'host' ? ['network.host'] : [],
        }),
      )
      solve.end()
      const solved = await solve.done.then(
        () => undefined,
        (err: unknown) => err,
      )
      await status.done.catch(() => undefined) // the stream ends with the solve
      if (signal?.aborted) throw cancelled(solved)
      if (solved !== undefined) {
        if (!(solved instanceof GrpcError)) throw this.unavailable(solved)
        progress.fail(solved.message)
      }
      const digest = response?.['containerimage.digest']
      if (digest) progress.setImageId(digest)
      const { imageId, steps } = progress.finish()
      const result: BuildResult = { imageId, tags, steps, durationMs: Date.now() - started }
      emit({ type: 'result', ...result })
      if (standalonePush) {
        return { ...result, pushed: tags.map((t) => ({ ref: t, digest: imageId })) }
      }
      return result
    } finally {
      signal?.removeEventListener('abort', abort)
      stopSession()
      client.close()
    }
  }

  /** Pushes a tag from the engine's image store (`dockerd+…` endpoints); a standalone buildkitd pushes in `build`. */
  async push(ref: string, opts: PushOptions = {}): Promise<PushResult> {
    return this.requireEngine('push').push(ref, opts)
  }

  async tag(source: string, ref: string): Promise<void> {
    return this.requireEngine('tag').tag(source, ref)
  }

  /** The engine's image store for `dockerd+…`; a standalone buildkitd keeps no image store: always undefined. */
  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.engine?.inspectImage(ref)
  }

  async imageExists(ref: string): Promise<boolean> {
    return (await this.inspectImage(ref)) !== undefined
  }

  async removeImage(ref: string, opts: { force?: boolean } = {}): Promise<boolean> {
    return this.engine ? this.engine.removeImage(ref, opts) : false
  }

  private requireEngine(what: string): DockerDriver {
    if (this.engine) return this.engine
    throw new ImagespecError(
      'E_CONFIG_INVALID',
      `Cannot ${what} through a standalone buildkitd at "${this.endpoint.address}"`,
      {
        hint: 'A standalone buildkitd pushes as part of the build (push: true)',
        field: 'BUILDKIT_HOST',
      },
    )
  }

  private frontendAttrs(opts: BuildOptions): Record<string, string> {
    const attrs: Record<string, string> = { filename: opts.dockerfile ?? 'Dockerfile' }
    if (opts.platform) attrs.platform = opts.platform
    if (opts.target) attrs.target = opts.target
    if (opts.network) attrs['force-network-mode'] = opts.network
    if (opts.nocache) attrs['no-cache'] = ''
    if (opts.pull) attrs['image-resolve-mode'] = 'pull'
    for (const [k, v] of Object.entries(opts.buildArgs ?? {})) attrs[`build-arg:${k}`] = v
    for (const [k, v] of Object.entries(opts.labels ?? {})) attrs[`label:${k}`] = v
    // the Dockerfile frontend of BuildKit v0.8 reads registry cache imports from this attribute
    const from = (opts.cacheFrom ?? []).map((c) => c.ref)
    if (from.length) attrs['cache-from'] = from.join(',')
    return attrs
  }

  private cacheExports(opts: BuildOptions): CacheEntry[] {
    if (this.endpoint.kind === 'dockerd') refuseRegistryCacheExport(opts.cacheTo)
    return (opts.cacheTo ?? []).map((c) => {
      if (c.type === 'inline') return { Type: 'inline', Attrs: {} }
      return { Type: 'registry', Attrs: { ref: c.ref, ...(c.mode && { mode: c.mode }) } }
    })
  }

  private async connect(): Promise<GrpcClient> {
    try {
      return new GrpcClient(await connectBuildkit(this.endpoint))
    } catch (err) {
      throw this.unavailable(err)
    }
  }

  private unavailable(cause: unknown): ImagespecError {
    if (isImagespecError(cause)) return cause
    if (this.endpoint.kind === 'dockerd') {
      const tls = tlsConnectionError(this.endpoint.engine, cause)
      if (tls) return tls
    }
    const reason = cause instanceof Error ? cause.message : String(cause)
    return new ImagespecError(
      'E_ENGINE_UNAVAILABLE',
      `Cannot reach BuildKit at "${this.endpoint.address}": ${reason}`,
      {
        cause,
        hint:
          cause instanceof GrpcError && cause.grpcCode === GRPC.UNIMPLEMENTED
            ? "The endpoint does not serve BuildKit's control API"
            : 'Start buildkitd, or point BUILDKIT_HOST at a running one (unset it to use the Docker engine)',
      },
    )
  }
}

/**
 * The Solve request's exporter. On a Docker engine's BuildKit, the engine's own (`moby`), which writes into its image
 * store and names the image. On a buildkitd, the `image` exporter, pushing when `push`; with `byDigest` too it pushes
 * by digest only (`push-by-digest`, `name-canonical`: no tag written, `name` is the repository).
 */
export function imageExporter(
  kind: BuildkitEndpoint['kind'],
  tags: readonly string[],
  push: boolean,
  byDigest: boolean,
): { Exporter: string; ExporterAttrs: Record<string, string> } {
  if (kind === 'dockerd')
    return { Exporter: 'moby', ExporterAttrs: tags.length ? { name: tags.join(',') } : {} }
  if (!tags.length) return { Exporter: '', ExporterAttrs: {} }
  const attrs: Record<string, string> = { name: tags.join(','), push: String(push) }
  if (push && byDigest) Object.assign(attrs, { 'push-by-digest': 'true', 'name-canonical': 'true' })
  return { Exporter: 'image', ExporterAttrs: attrs }
}
