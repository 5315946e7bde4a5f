// One run of requests to one repository under one deadline: authenticates (up front when the registry challenged
// before, else on a 401, once), retries connection errors and 429/5xx answers within the deadline, and classifies
// 401/403 as auth failures. The probe and the tag list build on it with the pull scope the registry asks for; registry
// writes (writer.ts) with an explicit scope (`repository:<name>:pull,push`) and request bodies.
import type { ImageReference } from '@imagespec/spec'
import type { Authorization } from './_auth.js'
import type { Cancel } from './_cancel.js'
import type { RegistryClient } from './_client.js'
import { ProbeFailure } from './_failure.js'
import { parseRetryAfter, withRetries, type RetryContext } from './_retry.js'
import { header, type HttpResponse, type RequestInit } from './_transport.js'

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504])
const MAX_CONFIG = 16 << 20

/** A request body and its media type (manifest puts, blob mounts). */
export interface RequestBody {
  body: Buffer
  contentType?: string
}

export class RegistrySession implements RetryContext {
  protected authorization?: Authorization
  readonly retries: number
  readonly debug: (message: string) => void

  constructor(
    readonly ref: ImageReference,
    readonly client: RegistryClient,
    protected readonly cancel: Cancel,
    readonly deadline: number,
    /** The token scope to ask for (writes); unset: the pull scope, or the scope a challenge names. */
    readonly scope?: string,
  ) {
    this.retries = client.retries
    this.debug = client.debug
  }

  /** For the retries' waits, made only when one happens. */
  get signal(): AbortSignal {
    return this.cancel.signal
  }

  /** The registry API's origin, e.g. `https://ghcr.io` or `http://127.0.0.1:5000`. */
  get origin(): string {
    return this.client.transport.origin(this.ref.apiHost)
  }

  /** Sends the cached authorization up front when the registry challenged before (no 401 round trip). */
  async authenticateUpfront(): Promise<void> {
    const { auth } = this.client
    if (!auth.challengedBefore(this.ref.registry)) return // the usual anonymous case: nothing to await
    if (this.scope)
      this.authorization = await auth.forScope(
        this.ref,
        this.scope,
        undefined,
        this.sendUrl,
        this.cancel,
      )
    else
      this.authorization =
        auth.cachedUpfront(this.ref) ?? (await auth.upfront(this.ref, this.sendUrl, this.cancel))
  }

  /** A request to the registry's API host: authenticates on a 401 (once), classifies 401/403 after that as auth failures. */
  async registryRequest(
    method: RequestInit['method'],
    path: string,
    maxBody: number,
    accept: string,
    body?: RequestBody,
  ): Promise<HttpResponse> {
    const { ref } = this
    let res = await this.send(method, path, maxBody, accept, body)
    if (res.status === 401 && !this.authorization?.withCredentials) {
      const { auth } = this.client
      this.authorization = this.scope
        ? await auth.forScope(ref, this.scope, res, this.sendUrl, this.cancel)
        : await auth.challenged(ref, res, this.sendUrl, this.cancel)
      res = await this.send(method, path, maxBody, accept, body)
    }
    if (res.status === 401)
      throw new ProbeFailure(
        'auth',
        this.authorization?.withCredentials
          ? `Registry "${ref.registry}" refused the credentials for "${ref.repository}" (HTTP 401)`
          : `Registry "${ref.registry}" requires credentials for "${ref.repository}" and none were found`,
      )
    if (res.status === 403) {
      const what = method === 'GET' || method === 'HEAD' ? 'access to' : 'pushing to'
      throw new ProbeFailure(
        'auth',
        `Registry "${ref.registry}" denied ${what} "${ref.repository}" (HTTP 403)`,
      )
    }
    return res
  }

  private send(
    method: RequestInit['method'],
    path: string,
    maxBody: number,
    accept: string,
    body?: RequestBody,
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = this.authorization
      ? { accept, authorization: this.authorization.header }
      : { accept }
    if (body?.contentType) headers['content-type'] = body.contentType
    if (body) headers['content-length'] = String(body.body.length)
    const init: RequestInit = {
      method,
      headers,
      cancel: this.cancel,
      maxBody,
      ...(body && { body: body.body }),
    }
    const { transport } = this.client
    return this.retrying(() => transport.request(this.ref.apiHost, path, init))
  }

  /**
   * An image's config blob (parsed JSON), following the redirects blob stores answer with (S3, GCS) without sending
   * the registry's credentials there.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed config, checked field by field by callers
  async configBlob(digest: string): Promise<any> {
    await this.authenticateUpfront()
    let res = await this.registryRequest(
      'GET',
      `/v2/${this.ref.repository}/blobs/${digest}`,
      MAX_CONFIG,
      '*/*',
    )
    for (let hops = 0; [301, 302, 303, 307, 308].includes(res.status) && hops < 5; hops++) {
      const location = header(res, 'location')
      if (!location) break
      res = await this.sendUrl(new URL(location, this.origin), {
        method: 'GET',
        headers: {},
        maxBody: MAX_CONFIG,
      })
    }
    if (res.status !== 200)
      throw new ProbeFailure(
        res.status >= 500 ? 'server' : 'protocol',
        `Registry "${this.ref.registry}" answered HTTP ${res.status} for config blob ${digest} of "${this.ref.repository}"`,
      )
    return readJson(res.body, this.ref)
  }

  /** The platform an image config names (`os`, `architecture`, `variant`). */
  async configPlatform(
    digest: string,
  ): Promise<{ os: string; architecture: string; variant?: string }> {
    const config = await this.configBlob(digest)
    if (typeof config.os !== 'string' || typeof config.architecture !== 'string')
      throw new ProbeFailure(
        'protocol',
        `The image config of "${this.ref.repository}" has no os/architecture`,
      )
    return {
      os: config.os,
      architecture: config.architecture,
      ...(typeof config.variant === 'string' && config.variant && { variant: config.variant }),
    }
  }

  /** Sends to an absolute URL (token endpoints, blob storage redirects) with the session's retries and cancel. */
  readonly sendUrl = (url: URL, init: Omit<RequestInit, 'cancel'>) =>
    this.retrying(() => this.client.transport.send(url, { ...init, cancel: this.cancel }))

  /** Retries connection errors and 429/5xx answers within the deadline. */
  private retrying(attempt: () => Promise<HttpResponse>): Promise<HttpResponse> {
    return withRetries(this, () => attempt().then(this.checkStatus))
  }

  private readonly checkStatus = (res: HttpResponse): HttpResponse => {
    if (RETRY_STATUSES.has(res.status))
      throw new ProbeFailure(
        'server',
        `Registry "${this.ref.registry}" answered HTTP ${res.status}`,
        true,
        parseRetryAfter(header(res, 'retry-after')),
      )
    return res
  }
}

/** Parses a JSON object body (a manifest, config or tag list); anything else is a protocol failure. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed document, checked field by field
export function readJson(body: Buffer, ref: ImageReference): any {
  try {
    const doc: unknown = JSON.parse(body.toString('utf8'))
    if (typeof doc === 'object' && doc !== null) return doc
  } catch {
    // reported below
  }
  throw new ProbeFailure(
    'protocol',
    `Registry "${ref.registry}" sent a body that is not a JSON object for "${ref.repository}"`,
  )
}
