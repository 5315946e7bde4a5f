// Registry writes: read a manifest or index, put a manifest or index, mount blobs across repositories, and a push
// relay that lets a Docker engine push an image by digest. Each call is a `RegistrySession` (the probe's transport,
// auth and retry rules) asking for the scope the call needs.
import { ImagespecError, type ErrorCode } from '@imagespec/spec'
import { Cancel } from './_cancel.js'
import { sha256 } from './_crypto.js'
import { createClient, type RegistryClient } from './_client.js'
import { ProbeFailure } from './_failure.js'
import { parsePlatform, formatPlatform, platformMatches, type Platform } from './_platform.js'
import { readJson, RegistrySession } from './_session.js'
import { header, type HttpResponse } from './_transport.js'
import { MEDIA_TYPES, type ProbeOptions } from './types.js'
import { formatReference, parseReference, type ImageReference } from '@imagespec/spec'

export type { Platform }

/** Options of `createRegistryWriter()`: the probe's (credentials, docker config, insecure registries, CA, retries). */
export type WriterOptions = Omit<ProbeOptions, 'tagListPageSize' | 'concurrency'> & {
  /** Sockets kept per registry (default 8). */
  concurrency?: number
}

/** One entry of an image index (OCI) or manifest list (Docker). */
export interface IndexEntry {
  mediaType: string
  digest: string
  size: number
  platform?: Platform
  annotations?: Record<string, string>
}

/** A manifest or index as the registry holds it. */
export interface ManifestDocument {
  /** The fully qualified reference read, e.g. `localhost:5000/app:1`. */
  reference: string
  digest: string
  mediaType: string
  size: number
  /** The exact bytes (the digest is theirs). */
  body: Buffer
  /** For an index or manifest list: its entries (attestation entries included, `platform.os` `unknown`). */
  manifests?: IndexEntry[]
  /** For an image manifest: its config descriptor. */
  config?: { mediaType: string; digest: string; size: number }
}

export interface RegistryWriter {
  /** GETs a manifest or index by tag or digest; `undefined` when the registry answers 404. */
  getManifest(
    ref: string | ImageReference,
    options?: WriteCallOptions,
  ): Promise<ManifestDocument | undefined>
  /** The platform of an image manifest, from its config blob. */
  manifestPlatform(
    ref: string | ImageReference,
    doc: ManifestDocument,
    options?: WriteCallOptions,
  ): Promise<Platform>
  /**
   * The labels of the image `ref` names (for an index, of its first image), from its config blob; `undefined` when
   * the registry has no such manifest.
   */
  imageLabels(
    ref: string | ImageReference,
    options?: WriteCallOptions,
  ): Promise<Record<string, string> | undefined>
  /** PUTs a manifest or index under `ref`'s tag (or its digest); resolves the digest the registry stored. */
  putManifest(
    ref: string | ImageReference,
    manifest: { body: Buffer | string; mediaType: string },
    options?: WriteCallOptions,
  ): Promise<string>
  /** Whether `ref`'s repository holds blob `digest`. */
  blobExists(
    ref: string | ImageReference,
    digest: string,
    options?: WriteCallOptions,
  ): Promise<boolean>
  /**
   * Mounts blob `digest` from repository `from` (same registry) into `ref`'s repository, so it need not be uploaded.
   * Resolves `true` when the blob is there afterwards, `false` when the registry refused the mount.
   */
  mountBlob(
    ref: string | ImageReference,
    digest: string,
    from: string,
    options?: WriteCallOptions,
  ): Promise<boolean>
  /**
   * Deletes tag `ref` (OCI distribution 1.1, distribution v3): resolves `true` when deleted, `false` when the
   * registry does not delete tags (distribution 2.x answers 400/405) or the tag is absent.
   */
  deleteTag(ref: string | ImageReference, options?: WriteCallOptions): Promise<boolean>
  /**
   * Starts a loopback relay through which a Docker engine on this machine pushes an image of `ref`'s repository by
   * digest: the engine pushes `<relay.host>/<repository>:<relay.tag>`, blobs go through to the registry (with push
   * credentials), and the manifest is put by digest, so no tag is written. `relay.pushed` holds what arrived.
   * With `mountFrom`, a blob the engine asks about that the repository lacks is mounted from one of those images'
   * repositories (same registry) instead of uploaded.
   */
  pushRelay(ref: string | ImageReference, options?: PushRelayOptions): Promise<PushRelay>
  close(): void
}

export interface WriteCallOptions {
  signal?: AbortSignal
  /** Overrides the writer's `timeoutMs` for this call. */
  timeoutMs?: number
}

export interface PushRelayOptions {
  /**
   * Images whose repositories may hold the pushed image's blobs, e.g. the base image
   * (`localhost:5000/imagespec/python-base:3.11`). Those on another registry than the target, the target's own
   * repository and unparsable names are ignored. When the engine checks for a blob the target repository lacks, the
   * relay first tries `POST /v2/<repository>/blobs/uploads/?mount=<digest>&from=<source>` for each source in order
   * (asking a Bearer token for push on the target and pull on the source); the engine sees the blob as present and
   * skips its upload. A refused mount (202) is cancelled and the engine uploads as usual.
   */
  mountFrom?: readonly (string | ImageReference)[]
  /** Called for each blob mounted instead of uploaded. */
  onMount?: (mount: MountedBlob) => void
}

/** A blob mounted from another repository of the registry instead of uploaded. */
export interface MountedBlob {
  digest: string
  /** The repository it was mounted from, e.g. `imagespec/python-base`. */
  from: string
  /** Its size in bytes, as the registry reports it after the mount. */
  size: number
}

export interface PushRelay {
  /** `127.0.0.1:<port>` */
  host: string
  /** The reference the engine pushes: `127.0.0.1:<port>/<repository>:<tag>`. */
  reference: string
  /** Manifests the engine put, by digest. */
  readonly pushed: IndexEntry[]
  /** Blobs mounted from another repository instead of uploaded. */
  readonly mounted: MountedBlob[]
  /** Bytes of blob uploads the engine sent through the relay (request bodies to `/v2/<repository>/blobs/uploads/`). */
  readonly uploadedBytes: number
  /** Blob uploads the engine completed through the relay (`PUT …/blobs/uploads/…?digest=`). */
  readonly uploadedBlobs: number
  close(): Promise<void>
}

const ACCEPT = Object.values(MEDIA_TYPES).join(', ')
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList])
const MAX_MANIFEST = 4 << 20
const MAX_SMALL = 1 << 20
const DEFAULT_TIMEOUT_MS = 30_000

/** Creates a writer sharing connections, tokens and credentials across its calls. Call `close()` when done. */
export function createRegistryWriter(options: WriterOptions = {}): RegistryWriter {
  const client = createClient({
    ...options,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    concurrency: options.concurrency ?? 8,
  })
  const { transport, timeoutMs } = client
  const toRef = (r: string | ImageReference) => (typeof r === 'string' ? parseReference(r) : r)

  function run<T>(
    r: string | ImageReference,
    scope: (ref: ImageReference) => string,
    call: WriteCallOptions,
    work: (s: WriteSession) => Promise<T>,
  ): Promise<T> {
    const ref = toRef(r)
    const limit = call.timeoutMs ?? timeoutMs
    const cancel = new Cancel()
    const timer = setTimeout(() => cancel.abort(), limit)
    const onAbort = () => cancel.abort()
    call.signal?.addEventListener('abort', onAbort, { once: true })
    const session = new WriteSession(ref, scope(ref), client, cancel, Date.now() + limit)
    return work(session)
      .catch((e: unknown) => {
        if (call.signal?.aborted)
          throw new ImagespecError(
            'E_BUILD_CANCELLED',
            `Registry request for "${formatReference(ref)}" cancelled`,
            { cause: e },
          )
        if (cancel.aborted)
          throw new ImagespecError(
            'E_PUSH_FAILED',
            `No answer from registry "${ref.registry}" within ${limit} ms`,
            { cause: e },
          )
        throw toError(e)
      })
      .finally(() => {
        clearTimeout(timer)
        call.signal?.removeEventListener('abort', onAbort)
      })
  }

  return {
    getManifest: (r, call = {}) => run(r, pullScope, call, (s) => s.getManifest()),
    manifestPlatform: (r, doc, call = {}) =>
      run(r, pullScope, call, (s) => {
        if (!doc.config)
          throw new ProbeFailure('protocol', `"${doc.reference}" is not an image manifest`)
        return s.configPlatform(doc.config.digest)
      }),
    imageLabels: (r, call = {}) => run(r, pullScope, call, (s) => s.imageLabels()),
    putManifest: (r, manifest, call = {}) =>
      run(r, pushScope, call, (s) => s.putManifest(manifest)),
    deleteTag: (r, call = {}) =>
      run(
        r,
        (ref) => `repository:${ref.repository}:delete`,
        call,
        (s) => s.deleteTag(),
      ),
    blobExists: (r, digest, call = {}) => run(r, pullScope, call, (s) => s.blobExists(digest)),
    mountBlob: (r, digest, from, call = {}) =>
      run(
        r,
        (ref) => `${pushScope(ref)} repository:${from}:pull`,
        call,
        (s) => s.mountBlob(digest, from),
      ),
    async pushRelay(r, options = {}) {
      const ref = toRef(r)
      const { startRelay } = await import('./_relay.js')
      const session = new WriteSession(ref, pushScope(ref), client, new Cancel(), Infinity)
      try {
        await session.authorize()
      } catch (e) {
        throw toError(e)
      }
      // Each source's blobs (every child's config and layers), read while the engine builds: only a blob a source is
      // known to hold is mounted from it.
      const sources = mountSources(ref, options.mountFrom ?? []).map((source) => ({
        repository: source.repository,
        blobs: run(source, pullScope, {}, (s) => s.blobsOf()).catch((e: unknown) => {
          session.debug(
            `relay: blobs of ${formatReference(source)} unknown: ${(e as Error).message}`,
          )
          return new Set<string>()
        }),
      }))
      // Each mount is a call of its own: its token asks for push on the target and pull on the source.
      const mount = (digest: string, from: string) =>
        run(
          ref,
          (x) => `${pushScope(x)} repository:${from}:pull`,
          {},
          (s) => s.mountBlob(digest, from),
        )
      return startRelay(ref, session, transport, {
        sources,
        mount,
        ...(options.onMount && { onMount: options.onMount }),
      })
    },
    close: () => transport.close(),
  }
}

/** The images of `images` on `ref`'s registry, outside `ref`'s repository, in order and one per repository. */
function mountSources(
  ref: ImageReference,
  images: readonly (string | ImageReference)[],
): ImageReference[] {
  const out: ImageReference[] = []
  for (const image of images) {
    let source: ImageReference
    try {
      source = typeof image === 'string' ? parseReference(image) : image
    } catch {
      continue
    }
    if (
      source.registry === ref.registry &&
      source.repository !== ref.repository &&
      !out.some((o) => o.repository === source.repository)
    )
      out.push(source)
  }
  return out
}

const pullScope = (ref: ImageReference) => `repository:${ref.repository}:pull`
const pushScope = (ref: ImageReference) => `repository:${ref.repository}:pull,push`

/**
 * The requests of one write call (or one relay) on one repository, authorised for one scope: the probe's session
 * (`_session.ts`: up-front auth once a registry challenged, one answer to a 401, retries of connection errors and
 * 429/5xx within the deadline) with the write calls on top.
 */
export class WriteSession extends RegistrySession {
  private checked = false

  constructor(
    ref: ImageReference,
    scope: string,
    client: RegistryClient,
    cancel: Cancel,
    deadline: number,
  ) {
    super(ref, client, cancel, deadline, scope)
  }

  /**
   * Settles the registry's scheme and, when it challenges, the authorization for this session's scope (a `GET /v2/`
   * first); later calls refresh an expiring token. Resolves the `Authorization` header value, if any.
   */
  async authorize(): Promise<string | undefined> {
    await this.authenticateUpfront()
    if (!this.checked) {
      const res = await this.registryRequest('GET', '/v2/', MAX_SMALL, 'application/json')
      if (res.status !== 200) throw statusFailure(this.ref, res, 'the API version check')
      this.checked = true
    }
    return this.authorization?.header
  }

  async getManifest(
    tagOrDigest = this.ref.digest ?? this.ref.tag!,
  ): Promise<ManifestDocument | undefined> {
    await this.authenticateUpfront()
    const res = await this.registryRequest(
      'GET',
      `/v2/${this.ref.repository}/manifests/${tagOrDigest}`,
      MAX_MANIFEST,
      ACCEPT,
    )
    if (res.status === 404) return undefined
    if (res.status !== 200) throw statusFailure(this.ref, res, 'a manifest read')
    return readManifest(this.ref, res.body, contentType(res), header(res, 'docker-content-digest'))
  }

  /** The config blob of an image manifest. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed config, checked field by field
  async imageConfig(doc: ManifestDocument): Promise<any> {
    if (!doc.config)
      throw new ProbeFailure('protocol', `"${doc.reference}" is not an image manifest`)
    return this.configBlob(doc.config.digest)
  }

  /**
   * The labels of an image (`config.Labels`); for an index, of its first image entry (the entries of an index that
   * imagespec publishes are one spec built for several platforms, with the same labels).
   */
  async imageLabels(): Promise<Record<string, string> | undefined> {
    let doc = await this.getManifest()
    if (!doc) return undefined
    if (doc.manifests) {
      const child = doc.manifests.find((m) => m.platform?.os !== 'unknown')
      if (!child) return {}
      doc = await this.getManifest(child.digest)
      if (!doc) return undefined
    }
    const labels: unknown = (await this.imageConfig(doc))?.config?.Labels
    if (!labels || typeof labels !== 'object') return {}
    return Object.fromEntries(
      Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'),
    )
  }

  /** The blobs (configs and layers) of the image `ref` names, of every child of an index (at most 32). */
  async blobsOf(): Promise<Set<string>> {
    const blobs = new Set<string>()
    const doc = await this.getManifest()
    if (!doc) return blobs
    const children = doc.manifests
      ? await Promise.all(doc.manifests.slice(0, 32).map((m) => this.getManifest(m.digest)))
      : [doc]
    for (const child of children) {
      if (!child) continue
      const parsed = readJson(child.body, this.ref) as { config?: unknown; layers?: unknown }
      for (const d of [parsed.config, ...(Array.isArray(parsed.layers) ? parsed.layers : [])]) {
        const digest = (d as { digest?: unknown } | undefined)?.digest
        if (typeof digest === 'string') blobs.add(digest)
      }
    }
    return blobs
  }

  async putManifest(
    manifest: { body: Buffer | string; mediaType: string },
    tagOrDigest = this.ref.digest ?? this.ref.tag!,
  ): Promise<string> {
    const body = typeof manifest.body === 'string' ? Buffer.from(manifest.body) : manifest.body
    const digest = sha256(body)
    await this.authenticateUpfront()
    const res = await this.registryRequest(
      'PUT',
      `/v2/${this.ref.repository}/manifests/${tagOrDigest}`,
      MAX_SMALL,
      '*/*',
      { body, contentType: manifest.mediaType },
    )
    if (res.status !== 201 && res.status !== 200)
      throw statusFailure(this.ref, res, `the manifest put of "${tagOrDigest}"`)
    const stored = header(res, 'docker-content-digest')
    if (stored && stored !== digest)
      throw new ProbeFailure(
        'protocol',
        `Registry "${this.ref.registry}" stored digest ${stored} for a manifest whose digest is ${digest}`,
      )
    return digest
  }

  async deleteTag(): Promise<boolean> {
    await this.authenticateUpfront()
    const res = await this.registryRequest(
      'DELETE',
      `/v2/${this.ref.repository}/manifests/${this.ref.tag}`,
      MAX_SMALL,
      '*/*',
    )
    if (res.status === 202 || res.status === 200) return true
    if ([400, 404, 405].includes(res.status)) return false
    throw statusFailure(this.ref, res, `the deletion of tag "${this.ref.tag}"`)
  }

  async blobExists(digest: string): Promise<boolean> {
    await this.authenticateUpfront()
    const res = await this.registryRequest(
      'HEAD',
      `/v2/${this.ref.repository}/blobs/${digest}`,
      0,
      '*/*',
    )
    if (res.status === 404) return false
    if (res.status === 200 || (res.status >= 300 && res.status < 400)) return true
    throw statusFailure(this.ref, res, `blob ${digest}`)
  }

  async mountBlob(digest: string, from: string): Promise<boolean> {
    if (from === this.ref.repository) return this.blobExists(digest)
    const q = new URLSearchParams({ mount: digest, from })
    await this.authenticateUpfront()
    const res = await this.registryRequest(
      'POST',
      `/v2/${this.ref.repository}/blobs/uploads/?${q.toString()}`,
      MAX_SMALL,
      '*/*',
      { body: Buffer.alloc(0) },
    )
    if (res.status === 201) return true
    if (res.status === 202) {
      // The registry started an upload instead: cancel it (best effort).
      const location = header(res, 'location')
      if (location) {
        const url = new URL(location, this.origin)
        await this.registryRequest('DELETE', url.pathname + url.search, MAX_SMALL, '*/*').catch(
          () => undefined,
        )
      }
      return false
    }
    throw statusFailure(this.ref, res, `the mount of blob ${digest} from "${from}"`)
  }
}

/**
 * An image index for `entries`: a Docker manifest list when every child is a Docker v2 manifest, else an OCI index
 * (children's media types decide, as buildx does).
 */
export function createIndex(entries: readonly IndexEntry[]): {
  body: string
  mediaType: string
  digest: string
} {
  const docker =
    entries.length > 0 && entries.every((e) => e.mediaType === MEDIA_TYPES.dockerManifest)
  const mediaType = docker ? MEDIA_TYPES.dockerList : MEDIA_TYPES.ociIndex
  const manifests = entries.map((e) => ({
    mediaType: e.mediaType,
    digest: e.digest,
    size: e.size,
    ...(e.platform && {
      platform: {
        architecture: e.platform.architecture,
        os: e.platform.os,
        ...(e.platform.variant && { variant: e.platform.variant }),
      },
    }),
    ...(e.annotations && { annotations: e.annotations }),
  }))
  const body = JSON.stringify({ schemaVersion: 2, mediaType, manifests }, null, 2)
  return { body, mediaType, digest: sha256(Buffer.from(body)) }
}

/** `os/arch[/variant]` of an index entry, `undefined` for entries without a platform (attestations). */
export function entryPlatform(e: IndexEntry): string | undefined {
  return e.platform && e.platform.os !== 'unknown' ? formatPlatform(e.platform) : undefined
}

export { parsePlatform, formatPlatform, platformMatches }

function readManifest(
  ref: ImageReference,
  body: Buffer,
  type: string | undefined,
  digestHeader: string | undefined,
): ManifestDocument {
  const doc = readJson(body, ref) as {
    mediaType?: unknown
    manifests?: unknown
    config?: unknown
    layers?: unknown
  }
  const mediaType =
    type &&
    (INDEX_TYPES.has(type) ||
      type === MEDIA_TYPES.dockerManifest ||
      type === MEDIA_TYPES.ociManifest)
      ? type
      : typeof doc.mediaType === 'string'
        ? doc.mediaType
        : Array.isArray(doc.manifests)
          ? MEDIA_TYPES.ociIndex
          : MEDIA_TYPES.ociManifest
  const digest = digestHeader ?? sha256(body)
  const out: ManifestDocument = {
    reference: formatReference(ref),
    digest,
    mediaType,
    size: body.length,
    body,
  }
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests))
      throw new ProbeFailure('protocol', `The index of "${ref.repository}" has no "manifests" list`)
    out.manifests = (doc.manifests as Record<string, unknown>[]).map((m) => {
      if (
        typeof m?.digest !== 'string' ||
        typeof m.mediaType !== 'string' ||
        typeof m.size !== 'number'
      )
        throw new ProbeFailure(
          'protocol',
          `The index of "${ref.repository}" has an entry without digest, mediaType or size`,
        )
      const p = m.platform as Partial<Platform> | undefined
      const platform =
        p && typeof p.os === 'string' && typeof p.architecture === 'string'
          ? {
              os: p.os,
              architecture: p.architecture,
              ...(typeof p.variant === 'string' && p.variant && { variant: p.variant }),
            }
          : undefined
      return {
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.size,
        ...(platform && { platform }),
        ...(m.annotations !== undefined && {
          annotations: m.annotations as Record<string, string>,
        }),
      }
    })
  } else {
    const c = doc.config as { mediaType?: unknown; digest?: unknown; size?: unknown } | undefined
    if (c && typeof c.digest === 'string')
      out.config = {
        mediaType: String(c.mediaType ?? ''),
        digest: c.digest,
        size: Number(c.size ?? 0),
      }
  }
  return out
}

function contentType(res: HttpResponse): string | undefined {
  const type = header(res, 'content-type')
  return type?.split(';')[0]!.trim()
}

function statusFailure(ref: ImageReference, res: HttpResponse, what: string): ProbeFailure {
  const detail = registryErrorText(res.body)
  return new ProbeFailure(
    res.status >= 500 ? 'server' : 'protocol',
    `Registry "${ref.registry}" answered HTTP ${res.status} to ${what} of "${ref.repository}"${detail ? `: ${detail}` : ''}`,
  )
}

/** The first `errors[].code: message` of a registry error body. */
function registryErrorText(body: Buffer): string | undefined {
  try {
    const doc = JSON.parse(body.toString('utf8')) as {
      errors?: { code?: unknown; message?: unknown }[]
    }
    const e = doc?.errors?.[0]
    if (e)
      return [e.code, e.message].filter((x) => typeof x === 'string' && x).join(': ') || undefined
  } catch {
    // not JSON
  }
  return undefined
}

const CODES: Record<ProbeFailure['reason'], ErrorCode> = {
  auth: 'E_REGISTRY_AUTH',
  timeout: 'E_PUSH_FAILED',
  network: 'E_PUSH_FAILED',
  server: 'E_PUSH_FAILED',
  protocol: 'E_PUSH_FAILED',
}

/** A write's failure as the package's error (a `ProbeFailure` keeps its message; caller errors pass through). */
function toError(e: unknown): Error {
  if (e instanceof ProbeFailure) return new ImagespecError(CODES[e.reason], e.message)
  return e as Error
}
