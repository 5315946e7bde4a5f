import type { Readable } from 'node:stream'
import type Dockerode from 'dockerode'
import { ImagespecError, formatReference, isImagespecError, parseReference } from '@imagespec/spec'
import type { ErrorCode } from '@imagespec/spec'
import { findCredentials, toAuthConfig, toSessionCredentials } from './_auth.js'
import { refuseRegistryCacheExport } from './_cache.js'
import { resolveDockerEndpoint } from './docker-context.js'
import {
  createDockerode,
  parseDockerHost,
  tlsConnectionError,
  type DockerHost,
} from './docker-host.js'
import { dial, type ModemError } from './_modem.js'
import { BuildProgress, readMessages } from './_progress.js'
import { sshFailure } from './_ssh.js'
import { prepareSecrets } from './_secrets.js'
import { openSession } from './_session.js'
import type {
  BuildOptions,
  BuildResult,
  DockerClientOptions,
  EngineInfo,
  ImageInfo,
  PushOptions,
  PushResult,
} from './types.js'

/** Socket error codes that mean the engine cannot be reached. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/** Creates a driver for the engine named by `opts.host` or `DOCKER_HOST`. */
export function createDockerClient(opts: DockerClientOptions = {}): DockerDriver {
  return new DockerDriver(opts)
}

/** The Docker Engine API driver: BuildKit builds with a session (secrets, registry auth), push, tag, inspect. */
export class DockerDriver {
  /** The parsed engine address. */
  readonly host: DockerHost
  private readonly docker: Dockerode

  constructor(opts: DockerClientOptions = {}) {
    // An explicit host, else DOCKER_HOST, else the docker CLI's current context (DOCKER_CONTEXT, `currentContext`).
    const endpoint =
      opts.host !== undefined
        ? { host: opts.host, env: opts.env ?? process.env }
        : resolveDockerEndpoint(opts.env ?? process.env)
    const env = endpoint.env as Record<string, string | undefined>
    this.host = parseDockerHost(endpoint.host, env)
    this.docker = createDockerode(this.host, env)
  }

  /**
   * Checks that the engine answers; resolves its version. Throws `E_ENGINE_UNAVAILABLE` otherwise. The default bound
   * is 5 s, and 20 s over ssh, where one call is a TCP connect, an SSH handshake, a login and a remote docker CLI.
   */
  async ping(timeoutMs = this.host.protocol === 'ssh' ? 20_000 : 5000): Promise<EngineInfo> {
    try {
      const v = await dial<Record<string, string>>(this.docker, {
        path: '/version',
        method: 'GET',
        abortSignal: AbortSignal.timeout(timeoutMs),
        statusCodes: { 200: true },
      })
      return {
        version: v.Version ?? '',
        apiVersion: v.ApiVersion ?? '',
        os: v.Os ?? '',
        arch: v.Arch ?? '',
      }
    } catch (err) {
      throw this.unavailable(err)
    }
  }

  /** Builds an image with BuildKit. Resolves when the engine reports the image id; rejects with `E_BUILD_FAILED`. */
  async build(opts: BuildOptions): Promise<BuildResult> {
    const started = Date.now()
    const emit = opts.onEvent ?? (() => {})
    const { signal } = opts
    const { secrets, scrub } = await prepareSecrets(opts)
    refuseRegistryCacheExport(opts.cacheTo)
    if (signal?.aborted) throw cancelled()
    const session = await openSession(this.docker, {
      secrets,
      credentials: async (host) => toSessionCredentials(await findCredentials(opts.auth, host)),
    }).catch((err: unknown) => {
      opts.context.destroy()
      throw this.classify(
        err,
        'E_BUILD_FAILED',
        'Cannot open a BuildKit session on the Docker engine',
      )
    })
    const tags = [...(opts.tags ?? [])]
    let contextError: unknown
    opts.context.once('error', (err) => (contextError = err))
    try {
      const stream = await dial<Readable>(this.docker, {
        path: '/build?',
        method: 'POST',
        file: opts.context,
        isStream: true,
        abortSignal: signal,
        options: definedOnly({
          t: tags,
          dockerfile: opts.dockerfile,
          buildargs: opts.cacheTo?.some((c) => c.type === 'inline')
            ? { ...opts.buildArgs, BUILDKIT_INLINE_CACHE: '1' } // how /build asks for an inline cache export
            : opts.buildArgs,
          cachefrom: opts.cacheFrom?.length
            ? JSON.stringify(opts.cacheFrom.map((c) => c.ref))
            : undefined,
          labels: opts.labels,
          platform: opts.platform,
          target: opts.target,
          networkmode: opts.network,
          nocache: opts.nocache,
          pull: opts.pull,
          rm: true,
          version: '2',
          session: session.id,
        }),
        statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
      })
      const progress = new BuildProgress(emit, scrub)
      await readMessages(stream, signal, (msg) => progress.handle(msg))
      const { imageId, steps } = progress.finish()
      const result = { imageId, tags, steps, durationMs: Date.now() - started }
      emit({ type: 'result', ...result })
      return result
    } catch (err) {
      opts.context.destroy()
      if (signal?.aborted) throw cancelled(err)
      if (contextError !== undefined) {
        if (isImagespecError(contextError)) throw contextError
        throw new ImagespecError('E_CONTEXT', 'Cannot read the build context', {
          cause: contextError,
        })
      }
      throw this.classify(err, 'E_BUILD_FAILED', 'Build failed', scrub)
    } finally {
      session.close()
    }
  }

  /** Pushes a local image; resolves the manifest digest. Errors in the progress stream reject with `E_PUSH_FAILED`. */
  async push(ref: string, opts: PushOptions = {}): Promise<PushResult> {
    const emit = opts.onEvent ?? (() => {})
    const { registry, repo, tag } = engineName(ref)
    const credentials = await findCredentials(opts.auth, registry)
    let digest: string | undefined
    let size: number | undefined
    let failure: string | undefined
    try {
      const stream = await dial<Readable>(this.docker, {
        path: `/images/${repo}/push?`,
        method: 'POST',
        options: { tag },
        isStream: true,
        abortSignal: opts.signal,
        authconfig: toAuthConfig(credentials, registry),
        statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
      })
      await readMessages(stream, opts.signal, (msg) => {
        if (msg.error !== undefined || msg.errorDetail !== undefined) {
          failure ??= msg.errorDetail?.message ?? msg.error
        } else if (isPushAux(msg.aux)) {
          digest = msg.aux.Digest
          size = msg.aux.Size
        } else if (typeof msg.status === 'string') {
          const { current, total } = msg.progressDetail ?? {}
          emit({ type: 'push-progress', layer: msg.id, status: msg.status, current, total })
        }
      })
    } catch (err) {
      if (opts.signal?.aborted) {
        throw new ImagespecError('E_BUILD_CANCELLED', `Push of "${ref}" cancelled`, { cause: err })
      }
      if ((err as ModemError).statusCode === 404) {
        throw new ImagespecError(
          'E_PUSH_FAILED',
          `Image "${ref}" not found in the local image store`,
          { cause: err },
        )
      }
      throw this.classify(err, 'E_PUSH_FAILED', `Push of "${ref}" failed`)
    }
    if (failure !== undefined)
      throw new ImagespecError('E_PUSH_FAILED', `Push of "${ref}" failed: ${failure}`)
    if (!digest)
      throw new ImagespecError('E_PUSH_FAILED', `Push of "${ref}" ended without a digest`)
    emit({ type: 'pushed', ref, digest, size })
    return { ref, digest, size }
  }

  /** Gives the local image `source` the name `ref`. */
  async tag(source: string, ref: string): Promise<void> {
    const { repo, tag } = engineName(ref)
    try {
      await dial(this.docker, {
        path: `/images/${source}/tag?`,
        method: 'POST',
        options: { repo, tag },
        statusCodes: {
          201: true,
          400: 'bad parameter',
          404: 'no such image',
          409: 'conflict',
          500: 'server error',
        },
      })
    } catch (err) {
      const status = (err as ModemError).statusCode
      if (status === 400) {
        throw new ImagespecError('E_REFERENCE_INVALID', `Invalid image reference "${ref}"`, {
          cause: err,
        })
      }
      if (status === 404) {
        const message = `Image "${source}" not found in the local image store`
        throw new ImagespecError('E_BUILD_FAILED', message, { cause: err })
      }
      throw this.classify(err, 'E_BUILD_FAILED', `Cannot tag "${source}" as "${ref}"`)
    }
  }

  /** Looks an image up in the engine's local image store; undefined when it is not there. */
  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    let raw: Dockerode.ImageInspectInfo
    try {
      raw = await dial<Dockerode.ImageInspectInfo>(this.docker, {
        path: `/images/${ref}/json`,
        method: 'GET',
        statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
      })
    } catch (err) {
      if ((err as ModemError).statusCode === 404) return undefined
      throw this.classify(err, 'E_IMAGE_EXISTS_UNKNOWN', `Cannot inspect image "${ref}"`)
    }
    return {
      id: raw.Id,
      repoTags: raw.RepoTags ?? [],
      repoDigests: raw.RepoDigests ?? [],
      created: raw.Created,
      size: raw.Size,
      os: raw.Os,
      architecture: raw.Architecture,
      labels: raw.Config?.Labels ?? {},
      env: raw.Config?.Env ?? [],
    }
  }

  /** Whether the engine's local image store has `ref`. */
  async imageExists(ref: string): Promise<boolean> {
    return (await this.inspectImage(ref)) !== undefined
  }

  /** Removes a local image (name or id); resolves false when there was none. */
  async removeImage(ref: string, opts: { force?: boolean } = {}): Promise<boolean> {
    try {
      await dial(this.docker, {
        path: `/images/${ref}?`,
        method: 'DELETE',
        options: { force: Boolean(opts.force) },
        statusCodes: { 200: true, 404: 'no such image', 409: 'conflict', 500: 'server error' },
      })
      return true
    } catch (err) {
      if ((err as ModemError).statusCode === 404) return false
      throw this.classify(err, 'E_INTERNAL', `Cannot remove image "${ref}"`)
    }
  }

  private unavailable(cause: unknown): ImagespecError {
    const ssh = sshFailure(this.host, cause) // login, host key, sshd unreachable
    if (ssh) return ssh
    const tls = tlsConnectionError(this.host, cause) // certificates, or TLS on one side only
    if (tls) return tls
    const denied = (cause as ModemError).code === 'EACCES'
    return new ImagespecError(
      'E_ENGINE_UNAVAILABLE',
      `Cannot reach the Docker engine at "${this.host.address}"`,
      {
        cause,
        hint: denied
          ? 'Permission denied on the engine socket: run as a user in the "docker" group'
          : 'Start the Docker engine, or point DOCKER_HOST at a running one',
      },
    )
  }

  /** Socket-level failures mean the engine is unavailable; other errors get `code` and the engine's message. */
  private classify(
    err: unknown,
    code: ErrorCode,
    message: string,
    scrub = (t: string) => t,
  ): ImagespecError {
    if (isImagespecError(err)) return err
    const ssh = sshFailure(this.host, err)
    if (ssh) return ssh
    const e = err as ModemError
    if (e.statusCode === undefined && e.code !== undefined) {
      if (UNREACHABLE.has(e.code) || tlsConnectionError(this.host, err))
        return this.unavailable(err)
    }
    const detail = engineMessage(e)
    return new ImagespecError(code, detail ? `${message}: ${scrub(detail)}` : message, {
      cause: err,
    })
  }
}

export function cancelled(cause?: unknown): ImagespecError {
  return new ImagespecError('E_BUILD_CANCELLED', 'Build cancelled', { cause })
}

/** The engine's own message from an HTTP error body (`{"message": …}`), else the error's message. */
function engineMessage(err: ModemError): string | undefined {
  const json = err.json as { message?: unknown } | undefined
  if (typeof json?.message === 'string') return json.message.trim()
  return err.message?.trim() || undefined
}

function isPushAux(aux: unknown): aux is { Digest: string; Size?: number } {
  return (
    typeof aux === 'object' &&
    aux !== null &&
    typeof (aux as { Digest?: unknown }).Digest === 'string'
  )
}

function definedOnly(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(obj).filter(([, v]) => v !== undefined && !(Array.isArray(v) && !v.length)),
  )
}

/**
 * A reference as the Engine API's push and tag endpoints take it: the repository in Docker's familiar form (`python`,
 * `localhost:5000/app`) and the tag (`latest` when none is written). Throws `E_REFERENCE_INVALID` for a bad reference.
 */
function engineName(ref: string): { registry: string; repo: string; tag: string } {
  const { tag = 'latest', digest: _digest, ...name } = parseReference(ref)
  return { registry: name.registry, repo: formatReference(name, { familiar: true }), tag }
}
