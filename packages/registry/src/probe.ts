import { readFileSync } from 'node:fs'
import { ImagespecError } from '@imagespec/spec'
import { Auth, type Authorization } from './_auth.js'
import { ProbeFailure, type UnknownReason } from './_failure.js'
import { formatPlatform, parsePlatform, platformMatches, type Platform } from './_platform.js'
import { parseRetryAfter, withRetries } from './_retry.js'
import { Transport, type HttpResponse, type RequestInit } from './_transport.js'
import type { CredentialOptions } from './credentials.js'
import { formatReference, parseReference, type ImageReference } from './reference.js'

export type { UnknownReason }

/** Options of `createProbe()`; they hold for every probe of that prober. */
export interface ProbeOptions extends Omit<CredentialOptions, 'signal'> {
  /**
   * Registries (`host` or `host:port`) to reach over plain HTTP or unverified HTTPS, as Docker's `insecure-registries`.
   * Added to the comma list in `IMAGESPEC_INSECURE_REGISTRIES`.
   */
  insecureRegistries?: readonly string[]
  /** Treat 127.0.0.0/8, ::1 and localhost as insecure registries, as Docker does (default true). */
  insecureLoopback?: boolean
  /** Extra CA certificates (PEM text) trusted for HTTPS, on top of Node's roots and `NODE_EXTRA_CA_CERTS`. */
  ca?: string | readonly string[]
  /** Files of extra CA certificates (PEM). */
  caFile?: string | readonly string[]
  /** The most one probe may take, everything included (auth, retries, bodies); default 10 000 ms. */
  timeoutMs?: number
  /** Retries on connection errors and 429/500/502/503/504 answers, within the timeout; default 3. */
  retries?: number
  /** `probeMany`'s default concurrency (also the sockets kept per registry); default 32. */
  concurrency?: number
  /** Receives debug lines (never secrets). */
  logger?: { debug(message: string): void }
}

/** Per-call options. */
export interface ProbeRequestOptions {
  /** Wanted platforms, `os/arch[/variant]`; the answer lists the ones the image lacks in `missingPlatforms`. */
  platforms?: readonly string[]
  /** Overrides the prober's `timeoutMs` for this call. */
  timeoutMs?: number
  /** Aborting answers `unknown` (reason `timeout`) at once. */
  signal?: AbortSignal
}

export type ProbeResult =
  | {
      status: 'exists'
      /** The fully qualified reference probed, e.g. `docker.io/library/python:3.11`. */
      reference: string
      /** The manifest (or index) digest, `sha256:…`. */
      digest: string
      mediaType: string
      /** Platforms the image holds (`os/arch[/variant]`): from the index, or the config when platforms were asked. */
      platforms?: string[]
      /** Wanted platforms that the image lacks (present only when platforms were asked). */
      missingPlatforms?: string[]
    }
  | { status: 'missing'; reference: string }
  | { status: 'unknown'; reference: string; reason: UnknownReason; message: string }

export interface Prober {
  /** Asks the registry whether `ref` exists. Rejects only for a bad reference, option or docker config. */
  probe(ref: string | ImageReference, options?: ProbeRequestOptions): Promise<ProbeResult>
  /** Probes all `refs` concurrently (at most `concurrency` at a time); answers are in the order of `refs`. */
  probeMany(refs: readonly (string | ImageReference)[], options?: ProbeRequestOptions & { concurrency?: number }): Promise<ProbeResult[]>
  /** Closes the kept-alive connections. */
  close(): void
}

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
} as const
const ACCEPT = Object.values(MEDIA_TYPES).join(', ')
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList])
const MANIFEST_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest])
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504])
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/
const MAX_MANIFEST = 4 << 20
const MAX_CONFIG = 16 << 20

const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_RETRIES = 3
const DEFAULT_CONCURRENCY = 32

/** Creates a prober that shares connections, tokens and credentials across its probes. Call `close()` when done. */
export function createProbe(options: ProbeOptions = {}): Prober {
  const env = options.env ?? process.env
  const timeoutMs = checkPositive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs')
  const retries = options.retries ?? DEFAULT_RETRIES
  if (!Number.isInteger(retries) || retries < 0) throw badOption('retries', retries)
  const defaultConcurrency = checkPositive(options.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency')
  const debug = (message: string) => options.logger?.debug(message)
  const insecure = [...(options.insecureRegistries ?? []), ...(env.IMAGESPEC_INSECURE_REGISTRIES ?? '').split(',')]
    .map((s) => s.trim())
    .filter(Boolean)
  const transport = new Transport({
    insecureRegistries: insecure,
    insecureLoopback: options.insecureLoopback ?? true,
    ca: [...toList(options.ca), ...toList(options.caFile).map(readCaFile)],
    maxSockets: defaultConcurrency,
    debug,
  })
  const auth = new Auth({ credentials: options.credentials, dockerConfig: options.dockerConfig, env }, debug)

  async function probe(input: string | ImageReference, request: ProbeRequestOptions = {}): Promise<ProbeResult> {
    const ref = typeof input === 'string' ? parseReference(input) : input
    const wanted = request.platforms?.map(parsePlatform)
    const limit = checkPositive(request.timeoutMs ?? timeoutMs, 'timeoutMs')
    const reference = formatReference(ref)
    const unknown = (reason: UnknownReason, message: string): ProbeResult => ({ status: 'unknown', reference, reason, message })

    // The deadline: a timer aborts everything in flight and answers at once, whatever the work is waiting on.
    const controller = new AbortController()
    const session = new Session(ref, transport, auth, { deadline: Date.now() + limit, signal: controller.signal, retries, debug })
    return new Promise<ProbeResult>((resolve, reject) => {
      const stop = () => {
        controller.abort()
        resolve(unknown('timeout', request.signal?.aborted ? 'The probe was aborted' : `No answer from registry "${ref.registry}" within ${limit} ms`))
      }
      const timer = setTimeout(stop, limit)
      request.signal?.addEventListener('abort', stop, { once: true })
      if (request.signal?.aborted) stop()
      // No abort when done: that would destroy the kept-alive socket the answer came on.
      const done = () => {
        clearTimeout(timer)
        request.signal?.removeEventListener('abort', stop)
      }
      session.run(wanted).then(
        ({ status, ...rest }) => {
          done()
          resolve({ status, reference, ...rest } as ProbeResult)
        },
        (e: unknown) => {
          done()
          if (e instanceof ProbeFailure) resolve(unknown(e.reason, e.message))
          else reject(e)
        },
      )
    })
  }

  return {
    probe,
    async probeMany(refs, request = {}) {
      const parsed = refs.map((r) => (typeof r === 'string' ? parseReference(r) : r)) // all bad references fail first
      request.platforms?.forEach(parsePlatform)
      const { default: pLimit } = await import('p-limit') // loaded here: a one-probe process never needs it
      const limit = pLimit(checkPositive(request.concurrency ?? defaultConcurrency, 'concurrency'))
      return Promise.all(parsed.map((ref) => limit(() => probe(ref, request))))
    },
    close: () => transport.close(),
  }
}

/** One-shot convenience: creates a prober, probes `ref` once and closes it. */
export async function probeImage(ref: string | ImageReference, options: ProbeOptions & ProbeRequestOptions = {}): Promise<ProbeResult> {
  const prober = createProbe(options)
  try {
    return await prober.probe(ref, options)
  } finally {
    prober.close()
  }
}

type Answer = { status: 'missing' } | Omit<Extract<ProbeResult, { status: 'exists' }>, 'reference'>

interface SessionContext {
  deadline: number
  signal: AbortSignal
  retries: number
  debug(message: string): void
}

interface Manifest {
  status: number
  digest?: string
  mediaType?: string
  body?: Buffer
}

/** One probe of one reference. */
class Session {
  private authorization?: Authorization

  constructor(
    private readonly ref: ImageReference,
    private readonly transport: Transport,
    private readonly auth: Auth,
    private readonly ctx: SessionContext,
  ) {}

  async run(wanted: Platform[] | undefined): Promise<Answer> {
    const { ref } = this
    this.authorization = await this.auth.upfront(ref, this.sendUrl, this.ctx.signal)
    const tagOrDigest = ref.digest ?? ref.tag!
    let m = await this.manifest('HEAD', tagOrDigest)
    // GET only where HEAD is refused or answers without a digest or type.
    if (m.status === 405 || m.status === 501 || (m.status === 200 && (!m.digest || !m.mediaType))) m = await this.manifest('GET', tagOrDigest)
    if (m.status === 404) return { status: 'missing' }
    if (m.status !== 200) throw new ProbeFailure(m.status >= 500 ? 'server' : 'protocol', `Registry "${ref.registry}" answered HTTP ${m.status} for "${ref.repository}"`)
    const digest = m.digest ?? (await sha256(m.body!))
    if (!DIGEST_RE.test(digest)) throw new ProbeFailure('protocol', `Registry "${ref.registry}" sent an invalid digest`)
    // Any GET answer must be a JSON manifest; its type comes from Content-Type, else the body.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed manifest, checked field by field
    let doc: any = m.body && readJson(m.body, ref)
    const mediaType: string =
      !doc || INDEX_TYPES.has(m.mediaType!) || MANIFEST_TYPES.has(m.mediaType!) ? m.mediaType! : (doc.mediaType ?? inferMediaType(doc, ref))
    const isIndex = INDEX_TYPES.has(mediaType)
    if (!isIndex && !wanted) return { status: 'exists', digest, mediaType }

    // The index's platforms, or (when platforms were asked) the single manifest's platform from its config.
    doc ??= readJson(await this.manifestBody(digest), ref)
    let platforms: Platform[]
    if (isIndex) {
      if (!Array.isArray(doc.manifests)) throw new ProbeFailure('protocol', `The index of "${ref.repository}" has no "manifests" list`)
      platforms = doc.manifests.flatMap((d: { platform?: Partial<Platform> }) =>
        typeof d?.platform?.os === 'string' && typeof d.platform.architecture === 'string' && d.platform.os !== 'unknown'
          ? [{ os: d.platform.os, architecture: d.platform.architecture, ...(d.platform.variant && { variant: d.platform.variant }) }]
          : [],
      )
    } else if (MANIFEST_TYPES.has(mediaType) && typeof doc.config?.digest === 'string') {
      platforms = [await this.configPlatform(doc.config.digest)]
    } else {
      throw new ProbeFailure('protocol', `Cannot read the platforms of "${ref.repository}" (media type "${mediaType}")`)
    }
    const names = [...new Set(platforms.map(formatPlatform))]
    const answer: Answer = { status: 'exists', digest, mediaType, platforms: names }
    if (wanted) answer.missingPlatforms = wanted.filter((w) => !platforms.some((p) => platformMatches(w, p))).map(formatPlatform)
    return answer
  }

  private async manifest(method: 'HEAD' | 'GET', tagOrDigest: string): Promise<Manifest> {
    const res = await this.registryRequest(method, `/v2/${this.ref.repository}/manifests/${tagOrDigest}`, MAX_MANIFEST)
    const header = (name: string) => {
      const v = res.headers[name]
      return typeof v === 'string' && v !== '' ? v : undefined
    }
    return {
      status: res.status,
      digest: header('docker-content-digest'),
      mediaType: header('content-type')?.split(';')[0]!.trim(),
      ...(method === 'GET' && { body: res.body }),
    }
  }

  private async manifestBody(digest: string): Promise<Buffer> {
    const m = await this.manifest('GET', digest)
    if (m.status !== 200) throw new ProbeFailure('server', `Registry "${this.ref.registry}" answered HTTP ${m.status} for manifest ${digest}`)
    return m.body!
  }

  private async configPlatform(digest: string): Promise<Platform> {
    let res = await this.registryRequest('GET', `/v2/${this.ref.repository}/blobs/${digest}`, MAX_CONFIG)
    // Blob stores redirect to storage (S3, GCS); never send the registry's credentials elsewhere.
    for (let hops = 0; [301, 302, 303, 307, 308].includes(res.status) && hops < 5; hops++) {
      const location = res.headers.location
      if (!location) break
      res = await this.sendUrl(new URL(location, this.transport.origin(this.ref.apiHost)), { method: 'GET', headers: {}, maxBody: MAX_CONFIG })
    }
    if (res.status !== 200) throw new ProbeFailure('server', `Registry "${this.ref.registry}" answered HTTP ${res.status} for config blob ${digest}`)
    const config = readJson(res.body, this.ref)
    if (typeof config.os !== 'string' || typeof config.architecture !== 'string')
      throw new ProbeFailure('protocol', `The image config of "${this.ref.repository}" has no os/architecture`)
    return { os: config.os, architecture: config.architecture, ...(typeof config.variant === 'string' && config.variant && { variant: config.variant }) }
  }

  /** A request to the registry's API host: authenticates on a 401 (once), classifies 401/403 after that as auth failures. */
  private async registryRequest(method: 'HEAD' | 'GET', path: string, maxBody: number): Promise<HttpResponse> {
    const { ref } = this
    const send = () =>
      this.send(() =>
        this.transport.request(ref.apiHost, path, {
          method,
          headers: { accept: ACCEPT, ...(this.authorization && { authorization: this.authorization.header }) },
          signal: this.ctx.signal,
          maxBody,
        }),
      )
    let res = await send()
    if (res.status === 401 && !this.authorization?.withCredentials) {
      this.authorization = await this.auth.challenged(ref, res, this.sendUrl, this.ctx.signal)
      res = await send()
    }
    if (res.status === 401)
      throw new ProbeFailure('auth', this.authorization?.withCredentials
        ? `Registry "${ref.registry}" refused the credentials for "${ref.repository}" (HTTP 401)`
        : `Registry "${ref.registry}" requires credentials for "${ref.repository}" and none were found`)
    if (res.status === 403) throw new ProbeFailure('auth', `Registry "${ref.registry}" denied access to "${ref.repository}" (HTTP 403)`)
    return res
  }

  private readonly sendUrl = (url: URL, init: Omit<RequestInit, 'signal'>) =>
    this.send(() => this.transport.send(url, { ...init, signal: this.ctx.signal }))

  /** Retries connection errors and 429/5xx answers within the deadline. */
  private send(attempt: () => Promise<HttpResponse>): Promise<HttpResponse> {
    return withRetries(this.ctx, async () => {
      const res = await attempt()
      if (RETRY_STATUSES.has(res.status)) {
        const retryAfter = res.headers['retry-after']
        throw new ProbeFailure('server', `Registry "${this.ref.registry}" answered HTTP ${res.status}`, true,
          parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : undefined))
      }
      return res
    })
  }
}

/** An OCI manifest's `mediaType` is optional: tell an index from an image manifest by its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed manifest, checked field by field
function inferMediaType(doc: any, ref: ImageReference): string {
  if (Array.isArray(doc.manifests)) return MEDIA_TYPES.ociIndex
  if (typeof doc.config === 'object' && Array.isArray(doc.layers)) return MEDIA_TYPES.ociManifest
  throw new ProbeFailure('protocol', `Registry "${ref.registry}" sent something that is not a manifest for "${ref.repository}"`)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed manifest/config, checked field by field
function readJson(body: Buffer, ref: ImageReference): any {
  try {
    const doc: unknown = JSON.parse(body.toString('utf8'))
    if (typeof doc === 'object' && doc !== null) return doc
  } catch {
    // reported below
  }
  throw new ProbeFailure('protocol', `Registry "${ref.registry}" sent a body that is not a JSON object for "${ref.repository}"`)
}

async function sha256(body: Buffer): Promise<string> {
  const { createHash } = await import('node:crypto')
  return `sha256:${createHash('sha256').update(body).digest('hex')}`
}

function toList(v: string | readonly string[] | undefined): string[] {
  return v === undefined ? [] : typeof v === 'string' ? [v] : [...v]
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (e) {
    throw new ImagespecError('E_CONFIG_INVALID', `Cannot read the CA file "${path}"`, { cause: e, field: 'caFile' })
  }
}

function checkPositive(v: number, field: string): number {
  if (!Number.isFinite(v) || v <= 0) throw badOption(field, v)
  return v
}

function badOption(field: string, value: unknown): ImagespecError {
  return new ImagespecError('E_CONFIG_INVALID', `Invalid option "${field}": ${JSON.stringify(value)}`, { field })
}
