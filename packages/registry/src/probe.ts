import { readFileSync } from 'node:fs'
import { ImagespecError } from '@imagespec/spec'
import { Auth, type Authorization } from './_auth.js'
import { Cancel } from './_cancel.js'
import { ProbeFailure, type UnknownReason } from './_failure.js'
import { formatPlatform, parsePlatform, platformMatches, type Platform } from './_platform.js'
import { parseRetryAfter, withRetries, type RetryContext } from './_retry.js'
import { header, headerList, Transport, type HttpResponse, type RequestInit } from './_transport.js'
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
  /**
   * Page size asked of a tag list (`probeMany`), sent as `?n=`; default: none (the registry's own page size).
   * Pages are followed through their `Link: <…>; rel="next"` headers either way.
   */
  tagListPageSize?: number
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

/** Per-call options of `probeMany`. */
export interface ProbeManyOptions extends ProbeRequestOptions {
  /** References probed at once (default: the prober's `concurrency`). */
  concurrency?: number
  /**
   * Whether every `exists` answer carries its manifest digest (default `true`). With `false`, when the call holds at
   * least 4 different tags of one repository, one tag list (`GET /v2/<name>/tags/list`) answers for all of them: the
   * tags it holds are `exists` without `digest` or `mediaType` (`ExistenceResult`), the others `missing`, so a
   * repository costs one request however many tags are asked. Digest references, wanted `platforms`, smaller groups
   * and any fallback keep the manifest request, and their `exists` answers keep their digest.
   */
  digests?: boolean
  /**
   * Whether tag lists are used (default: when `digests` is `false`). With `true` and digests, the list answers
   * `missing` for the tags it lacks and each tag it holds still gets its `HEAD`: fewer requests when many tags are
   * absent, one more round trip when all exist. Set `false` for registries whose tag list can lag behind their
   * manifests (a pull-through cache that lists only what it has cached, an eventually consistent mirror): every
   * reference then gets its own manifest request, as `probe` does.
   */
  tagList?: boolean
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

/**
 * An answer of `probeMany(refs, { digests: false })`: a `ProbeResult`, except that an `exists` answer taken from a
 * repository's tag list has no `digest` and `mediaType` (the ones answered by a manifest request keep theirs).
 */
export type ExistenceResult =
  | Exclude<ProbeResult, { status: 'exists' }>
  | (Omit<Extract<ProbeResult, { status: 'exists' }>, 'digest' | 'mediaType'> & { digest?: string; mediaType?: string })

export interface Prober {
  /** Asks the registry whether `ref` exists. Rejects only for a bad reference, option or docker config. */
  probe(ref: string | ImageReference, options?: ProbeRequestOptions): Promise<ProbeResult>
  /**
   * Probes all `refs` concurrently (at most `concurrency` probes or tag lists at a time); answers are in the order of
   * `refs`. Tags of one repository may share one tag list (see `ProbeManyOptions.digests`).
   */
  probeMany(refs: readonly (string | ImageReference)[], options?: ProbeManyOptions & { digests?: true }): Promise<ProbeResult[]>
  probeMany(refs: readonly (string | ImageReference)[], options?: ProbeManyOptions): Promise<ExistenceResult[]>
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
const MAX_TAG_PAGE = 16 << 20

const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_RETRIES = 3
const DEFAULT_CONCURRENCY = 32

/**
 * The fewest different tags of one repository in one `probeMany` call that are checked through its tag list. Below
 * it, the per-tag HEADs already answer within one concurrent round trip for at most 3 small requests, while a tag
 * list costs a round trip of its own (before the HEADs, when digests are wanted) and a body that grows with the
 * repository (every tag it holds, possibly over several pages), not with the question: it only pays when it
 * replaces several requests.
 */
const TAG_LIST_MIN_TAGS = 4
/**
 * A tag list is read for at most one page per two tags asked (and never more than 10 pages); past that, HEADs for the
 * tags not seen yet are the cheaper way, and they are what is done.
 */
const MAX_TAG_PAGES = 10

/** Parsed references kept per prober (a repeated probe of the same string parses nothing). */
const REFERENCE_CACHE_SIZE = 512

interface Target {
  ref: ImageReference
  /** `formatReference(ref)`, the answers' `reference`. */
  reference: string
}

/** Creates a prober that shares connections, tokens and credentials across its probes. Call `close()` when done. */
export function createProbe(options: ProbeOptions = {}): Prober {
  const env = options.env ?? process.env
  const timeoutMs = checkPositive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs')
  const retries = options.retries ?? DEFAULT_RETRIES
  if (!Number.isInteger(retries) || retries < 0) throw badOption('retries', retries)
  const defaultConcurrency = checkPositive(options.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency')
  const pageSize = options.tagListPageSize
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize <= 0)) throw badOption('tagListPageSize', pageSize)
  const logger = options.logger
  const debug = (message: string) => logger?.debug(message)
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
  const shared: Shared = { transport, auth, retries, debug }

  const targets = new Map<string, Target>()
  function target(input: string | ImageReference): Target {
    if (typeof input !== 'string') return { ref: input, reference: formatReference(input) }
    let t = targets.get(input)
    if (t === undefined) {
      const ref = parseReference(input)
      if (targets.size >= REFERENCE_CACHE_SIZE) targets.clear()
      targets.set(input, (t = { ref, reference: formatReference(ref) }))
    }
    return t
  }

  function timeoutOf(request: ProbeRequestOptions): number {
    return request.timeoutMs === undefined ? timeoutMs : checkPositive(request.timeoutMs, 'timeoutMs')
  }

  /** One probe, answering by `deadline` at the latest (epoch ms; `limit` is what the messages call the timeout). */
  function probeTarget({ ref, reference }: Target, wanted: Platform[] | undefined, deadline: number, limit: number, signal: AbortSignal | undefined): Promise<ProbeResult> {
    return underDeadline(
      deadline,
      signal,
      (cancel) => new Session(ref, reference, shared, cancel, deadline).probe(wanted),
      (aborted) => ({ status: 'unknown', reference, reason: 'timeout', message: aborted ? 'The probe was aborted' : `No answer from registry "${ref.registry}" within ${limit} ms` }),
      (e) => ({ status: 'unknown', reference, reason: e.reason, message: e.message }),
    )
  }

  function probe(input: string | ImageReference, request: ProbeRequestOptions = {}): Promise<ProbeResult> {
    try {
      const t = target(input)
      const wanted = request.platforms?.map(parsePlatform)
      const limit = timeoutOf(request)
      return probeTarget(t, wanted, Date.now() + limit, limit, request.signal)
    } catch (e) {
      return Promise.reject(e)
    }
  }

  async function probeMany(refs: readonly (string | ImageReference)[], request: ProbeManyOptions = {}): Promise<ExistenceResult[]> {
    const all = refs.map(target) // all bad references and options fail before anything is sent
    const wanted = request.platforms?.map(parsePlatform)
    const limit = timeoutOf(request)
    const { signal } = request
    const withDigests = request.digests ?? true
    const { default: pLimit } = await import('p-limit') // loaded here: a one-probe process never needs it
    const slot = pLimit(checkPositive(request.concurrency ?? defaultConcurrency, 'concurrency'))
    const answers: Promise<ExistenceResult>[] = new Array(all.length)

    // Tag references by repository: a group with enough different tags is asked through its tag list.
    const groups = new Map<string, number[]>()
    all.forEach(({ ref }, i) => {
      if (ref.digest !== undefined || !(request.tagList ?? !withDigests)) return
      const key = `${ref.registry}/${ref.repository}`
      const group = groups.get(key)
      if (group) group.push(i)
      else groups.set(key, [i])
    })
    for (const group of groups.values()) {
      const tags = new Set(group.map((i) => all[i]!.ref.tag!))
      if (tags.size < TAG_LIST_MIN_TAGS) continue
      // A reference's time is its share of the list plus its own HEAD (time queued for a slot aside, as for any
      // reference): together at most `limit`. The list may use half of it, so a list that does not answer still leaves
      // time for the HEADs that replace it.
      let listMs = 0
      const listing = slot(async () => {
        const start = Date.now()
        const list = await listTags(all[group[0]!]!, tags, start + limit / 2, signal)
        listMs = Date.now() - start
        return list
      })
      for (const i of group) {
        const t = all[i]!
        answers[i] = listing.then((list): ExistenceResult | Promise<ExistenceResult> => {
          const tag = t.ref.tag!
          if (list?.present.has(tag)) {
            if (!withDigests && !wanted) return { status: 'exists', reference: t.reference }
          } else if (list?.complete) return { status: 'missing', reference: t.reference }
          return slot(() => probeTarget(t, wanted, Date.now() + limit - listMs, limit, signal))
        })
      }
    }
    all.forEach((t, i) => {
      answers[i] ??= slot(() => probeTarget(t, wanted, Date.now() + limit, limit, signal))
    })
    return Promise.all(answers)
  }

  /**
   * Reads the tag list of the target's repository until every tag of `tags` was seen or the list ends. `undefined` when
   * the list could not be had (refused, failed, timed out): the references then take the HEAD path.
   */
  function listTags({ ref, reference }: Target, tags: Set<string>, deadline: number, signal: AbortSignal | undefined): Promise<TagList | undefined> {
    const maxPages = Math.min(MAX_TAG_PAGES, Math.ceil(tags.size / 2))
    return underDeadline(
      deadline,
      signal,
      (cancel) => new Session(ref, reference, shared, cancel, deadline).tagList(tags, maxPages, pageSize),
      (aborted) => {
        debug(`tag list of ${ref.registry}/${ref.repository}: ${aborted ? 'aborted' : 'no answer in time'}, probing each tag`)
        return undefined
      },
      (e) => {
        debug(`tag list of ${ref.registry}/${ref.repository}: ${e.message}; probing each tag`)
        return undefined
      },
    )
  }

  return {
    probe,
    probeMany: probeMany as Prober['probeMany'],
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

/**
 * Runs `work` until `deadline` (epoch ms) or the caller's `signal`, whichever comes first: that cancels everything
 * in flight and settles at once with `stopped(aborted)`. A `ProbeFailure` settles with `failed(e)`; any other error
 * (a caller error such as a broken docker config) rejects.
 */
function underDeadline<T>(
  deadline: number,
  signal: AbortSignal | undefined,
  work: (cancel: Cancel) => Promise<T>,
  stopped: (aborted: boolean) => T,
  failed: (e: ProbeFailure) => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = new Cancel()
    let settled = false
    const stop = () => {
      if (settled) return
      settled = true
      cancel.abort()
      resolve(stopped(signal?.aborted === true))
    }
    const left = deadline - Date.now()
    if (left <= 0 || signal?.aborted) return stop()
    const timer = setTimeout(stop, left)
    signal?.addEventListener('abort', stop, { once: true })
    // No cancel when done: that would destroy the kept-alive socket the answer came on.
    const done = () => {
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', stop)
    }
    work(cancel).then(
      (answer) => {
        if (settled) return
        done()
        resolve(answer)
      },
      (e: unknown) => {
        if (settled) return
        done()
        if (e instanceof ProbeFailure) resolve(failed(e))
        else reject(e)
      },
    )
  })
}

interface Shared {
  transport: Transport
  auth: Auth
  retries: number
  debug(message: string): void
}

interface TagList {
  /** The asked tags that the list holds. */
  present: Set<string>
  /** Whether the whole list was read (else a tag not in `present` may still exist). */
  complete: boolean
}

interface Manifest {
  status: number
  digest?: string
  mediaType?: string
  body?: Buffer
}

/** The requests of one probe (or one tag list) of one repository, under one deadline. */
class Session implements RetryContext {
  private authorization?: Authorization
  readonly retries: number
  readonly debug: (message: string) => void

  constructor(
    private readonly ref: ImageReference,
    private readonly reference: string,
    private readonly shared: Shared,
    private readonly cancel: Cancel,
    readonly deadline: number,
  ) {
    this.retries = shared.retries
    this.debug = shared.debug
  }

  /** For the retries' waits, made only when one happens. */
  get signal(): AbortSignal {
    return this.cancel.signal
  }

  async probe(wanted: Platform[] | undefined): Promise<ProbeResult> {
    const { ref, reference } = this
    await this.authenticateUpfront()
    const tagOrDigest = ref.digest ?? ref.tag!
    let m = await this.manifest('HEAD', tagOrDigest)
    // GET only where HEAD is refused or answers without a digest or type.
    if (m.status === 405 || m.status === 501 || (m.status === 200 && (!m.digest || !m.mediaType))) m = await this.manifest('GET', tagOrDigest)
    if (m.status === 404) return { status: 'missing', reference }
    if (m.status !== 200) throw new ProbeFailure(m.status >= 500 ? 'server' : 'protocol', `Registry "${ref.registry}" answered HTTP ${m.status} for "${ref.repository}"`)
    const digest = m.digest ?? (await sha256(m.body!))
    if (!DIGEST_RE.test(digest)) throw new ProbeFailure('protocol', `Registry "${ref.registry}" sent an invalid digest`)
    // Any GET answer must be a JSON manifest; its type comes from Content-Type, else the body.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed manifest, checked field by field
    let doc: any = m.body && readJson(m.body, ref)
    const mediaType: string =
      !doc || INDEX_TYPES.has(m.mediaType!) || MANIFEST_TYPES.has(m.mediaType!) ? m.mediaType! : (doc.mediaType ?? inferMediaType(doc, ref))
    const isIndex = INDEX_TYPES.has(mediaType)
    if (!isIndex && !wanted) return { status: 'exists', reference, digest, mediaType }

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
    const answer: ProbeResult = { status: 'exists', reference, digest, mediaType, platforms: names }
    if (wanted) answer.missingPlatforms = wanted.filter((w) => !platforms.some((p) => platformMatches(w, p))).map(formatPlatform)
    return answer
  }

  /**
   * `GET /v2/<name>/tags/list`, following `Link: <…>; rel="next"` (same origin only) for at most `maxPages` pages or
   * until every tag of `tags` was seen. Throws a `ProbeFailure` when the list is refused or fails before its first
   * page; a failure on a later page keeps what was seen (incomplete).
   */
  async tagList(tags: Set<string>, maxPages: number, pageSize: number | undefined): Promise<TagList> {
    const { ref } = this
    await this.authenticateUpfront()
    const present = new Set<string>()
    let path = `/v2/${ref.repository}/tags/list${pageSize ? `?n=${pageSize}` : ''}`
    for (let page = 1; ; page++) {
      let res: HttpResponse
      try {
        res = await this.registryRequest('GET', path, MAX_TAG_PAGE, 'application/json')
        if (res.status === 404 && page === 1 && isNameUnknown(res.body)) return { present, complete: true } // no such repository
        if (res.status !== 200) throw new ProbeFailure(res.status >= 500 ? 'server' : 'protocol', `Registry "${ref.registry}" answered HTTP ${res.status} to the tag list of "${ref.repository}"`)
      } catch (e) {
        if (page > 1 && e instanceof ProbeFailure) return { present, complete: false }
        throw e
      }
      const doc = readJson(res.body, ref)
      if (doc.tags !== null && doc.tags !== undefined && !Array.isArray(doc.tags))
        throw new ProbeFailure('protocol', `Registry "${ref.registry}" sent a tag list without a "tags" list for "${ref.repository}"`)
      for (const tag of doc.tags ?? []) if (typeof tag === 'string' && tags.has(tag)) present.add(tag)
      if (present.size === tags.size) return { present, complete: true }
      const next = this.nextPage(headerList(res, 'link'), path)
      if (next === undefined) return { present, complete: true }
      if (next === null || page >= maxPages) return { present, complete: false }
      path = next
    }
  }

  /** The path of the `rel="next"` link: `undefined` when there is none, `null` when it leaves the registry or loops. */
  private nextPage(link: string | undefined, current: string): string | null | undefined {
    if (link === undefined) return undefined
    for (const m of link.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]*)*)/g)) {
      const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(m[2]!)
      if (!rel || !(rel[1] ?? rel[2]!).toLowerCase().split(/\s+/).includes('next')) continue
      const origin = this.shared.transport.origin(this.ref.apiHost)
      let url: URL
      try {
        url = new URL(m[1]!, origin + current)
      } catch {
        return null
      }
      const path = url.pathname + url.search
      return url.origin === new URL(origin).origin && path !== current ? path : null
    }
    return undefined
  }

  private async authenticateUpfront(): Promise<void> {
    const { auth } = this.shared
    if (!auth.challengedBefore(this.ref.registry)) return // the usual anonymous case: nothing to await
    this.authorization = auth.cachedUpfront(this.ref) ?? (await auth.upfront(this.ref, this.sendUrl, this.cancel))
  }

  private async manifest(method: 'HEAD' | 'GET', tagOrDigest: string): Promise<Manifest> {
    const res = await this.registryRequest(method, `/v2/${this.ref.repository}/manifests/${tagOrDigest}`, MAX_MANIFEST, ACCEPT)
    const type = header(res, 'content-type')
    const semi = type?.indexOf(';') ?? -1
    return {
      status: res.status,
      digest: header(res, 'docker-content-digest'),
      mediaType: semi === -1 ? type?.trim() : type!.slice(0, semi).trim(),
      body: method === 'GET' ? res.body : undefined,
    }
  }

  private async manifestBody(digest: string): Promise<Buffer> {
    const m = await this.manifest('GET', digest)
    if (m.status !== 200) throw new ProbeFailure('server', `Registry "${this.ref.registry}" answered HTTP ${m.status} for manifest ${digest}`)
    return m.body!
  }

  private async configPlatform(digest: string): Promise<Platform> {
    let res = await this.registryRequest('GET', `/v2/${this.ref.repository}/blobs/${digest}`, MAX_CONFIG, ACCEPT)
    // Blob stores redirect to storage (S3, GCS); never send the registry's credentials elsewhere.
    for (let hops = 0; [301, 302, 303, 307, 308].includes(res.status) && hops < 5; hops++) {
      const location = header(res, 'location')
      if (!location) break
      res = await this.sendUrl(new URL(location, this.shared.transport.origin(this.ref.apiHost)), { method: 'GET', headers: {}, maxBody: MAX_CONFIG })
    }
    if (res.status !== 200) throw new ProbeFailure('server', `Registry "${this.ref.registry}" answered HTTP ${res.status} for config blob ${digest}`)
    const config = readJson(res.body, this.ref)
    if (typeof config.os !== 'string' || typeof config.architecture !== 'string')
      throw new ProbeFailure('protocol', `The image config of "${this.ref.repository}" has no os/architecture`)
    return { os: config.os, architecture: config.architecture, ...(typeof config.variant === 'string' && config.variant && { variant: config.variant }) }
  }

  /** A request to the registry's API host: authenticates on a 401 (once), classifies 401/403 after that as auth failures. */
  private async registryRequest(method: 'HEAD' | 'GET', path: string, maxBody: number, accept: string): Promise<HttpResponse> {
    const { ref } = this
    let res = await this.send(method, path, maxBody, accept)
    if (res.status === 401 && !this.authorization?.withCredentials) {
      this.authorization = await this.shared.auth.challenged(ref, res, this.sendUrl, this.cancel)
      res = await this.send(method, path, maxBody, accept)
    }
    if (res.status === 401)
      throw new ProbeFailure('auth', this.authorization?.withCredentials
        ? `Registry "${ref.registry}" refused the credentials for "${ref.repository}" (HTTP 401)`
        : `Registry "${ref.registry}" requires credentials for "${ref.repository}" and none were found`)
    if (res.status === 403) throw new ProbeFailure('auth', `Registry "${ref.registry}" denied access to "${ref.repository}" (HTTP 403)`)
    return res
  }

  private send(method: 'HEAD' | 'GET', path: string, maxBody: number, accept: string): Promise<HttpResponse> {
    const init: RequestInit = {
      method,
      headers: this.authorization ? { accept, authorization: this.authorization.header } : { accept },
      cancel: this.cancel,
      maxBody,
    }
    const { transport } = this.shared
    return this.retrying(() => transport.request(this.ref.apiHost, path, init))
  }

  private readonly sendUrl = (url: URL, init: Omit<RequestInit, 'cancel'>) =>
    this.retrying(() => this.shared.transport.send(url, { ...init, cancel: this.cancel }))

  /** Retries connection errors and 429/5xx answers within the deadline. */
  private retrying(attempt: () => Promise<HttpResponse>): Promise<HttpResponse> {
    return withRetries(this, () => attempt().then(this.checkStatus))
  }

  private readonly checkStatus = (res: HttpResponse): HttpResponse => {
    if (RETRY_STATUSES.has(res.status))
      throw new ProbeFailure('server', `Registry "${this.ref.registry}" answered HTTP ${res.status}`, true, parseRetryAfter(header(res, 'retry-after')))
    return res
  }
}

/** Whether a 404 body is the registry's `NAME_UNKNOWN` error (the repository does not exist). */
function isNameUnknown(body: Buffer): boolean {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown }[] }
    return Array.isArray(doc?.errors) && doc.errors.some((e) => e?.code === 'NAME_UNKNOWN')
  } catch {
    return false
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
