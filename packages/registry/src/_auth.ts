import { isImagespecError, type ImageReference, type RegistryCredentials } from '@imagespec/spec'
import type { Cancel } from './_cancel.js'
import { ProbeFailure } from './_failure.js'
import { headerList, type HttpResponse, type RequestInit } from './_transport.js'
import { parseWwwAuthenticate, type Challenge } from './_www-authenticate.js'
import { resolveCredentials, type CredentialOptions } from './credentials.js'

/** Sends a request (with the probe's retries and deadline) to an absolute URL. */
export type SendUrl = (url: URL, init: Omit<RequestInit, 'cancel'>) => Promise<HttpResponse>

export interface Authorization {
  header: string
  /** Whether credentials were used (else the registry allowed an anonymous token). */
  withCredentials: boolean
}

interface Token {
  value: string
  expiresAt: number
}

/** An answer to a challenge, kept for up-front use until it expires (a Bearer token's expiry; Basic never expires). */
interface Answered {
  challenge: Challenge
  authorization: Authorization
  expiresAt: number
}

const DEFAULT_TOKEN_LIFETIME_S = 60

/**
 * The auth state of one `createProbe()`: the last challenge per registry (so later requests authenticate up front
 * instead of collecting a 401 first), bearer tokens per (realm, service, scope) until they expire, and credentials per
 * registry. Anonymous first: nothing is looked up until a registry asks for it.
 */
export class Auth {
  private readonly challenges = new Map<string, Challenge>()
  private readonly tokens = new Map<string, Promise<Token>>()
  private readonly credentials = new Map<string, Promise<RegistryCredentials | undefined>>()
  /** Per registry and scope: the last answer, so a warm probe authenticates without awaiting anything. */
  private readonly answered = new Map<string, Answered>()

  constructor(
    private readonly options: CredentialOptions,
    private readonly debug: (message: string) => void,
  ) {}

  /** Whether `registry` challenged before (then requests to it should authenticate up front). */
  challengedBefore(registry: string): boolean {
    return this.challenges.has(registry)
  }

  /** The header to send up front, when `ref`'s registry challenged before and the answer is known and unexpired. */
  cachedUpfront(ref: ImageReference): Authorization | undefined {
    const hit = this.answered.get(`${ref.registry}\n${pullScope(ref)}`)
    return hit && hit.challenge === this.challenges.get(ref.registry) && hit.expiresAt > Date.now()
      ? hit.authorization
      : undefined
  }

  /** The header to send up front when `ref`'s registry challenged before; `undefined` otherwise. */
  async upfront(
    ref: ImageReference,
    send: SendUrl,
    cancel: Cancel,
  ): Promise<Authorization | undefined> {
    const challenge = this.challenges.get(ref.registry)
    return challenge && this.answer(ref, challenge, pullScope(ref), send, cancel)
  }

  /** Answers the challenge of a 401 response. */
  async challenged(
    ref: ImageReference,
    res: HttpResponse,
    send: SendUrl,
    cancel: Cancel,
  ): Promise<Authorization> {
    const challenges = parseWwwAuthenticate(headerList(res, 'www-authenticate'))
    const challenge =
      challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic')
    if (!challenge)
      throw new ProbeFailure(
        'auth',
        `Registry "${ref.registry}" answered 401 without a Bearer or Basic challenge`,
      )
    this.challenges.set(ref.registry, challenge)
    return this.answer(ref, challenge, challenge.params.scope ?? pullScope(ref), send, cancel)
  }

  /**
   * The header for `scope` (e.g. `repository:<name>:pull,push`) on `ref`'s registry: answers the challenge of a 401
   * response `res` when given, else the registry's last challenge; `undefined` when it never challenged (anonymous).
   */
  async forScope(
    ref: ImageReference,
    scope: string,
    res: HttpResponse | undefined,
    send: SendUrl,
    cancel: Cancel,
  ): Promise<Authorization | undefined> {
    if (res) {
      const challenges = parseWwwAuthenticate(headerList(res, 'www-authenticate'))
      const challenge =
        challenges.find((c) => c.scheme === 'bearer') ??
        challenges.find((c) => c.scheme === 'basic')
      if (!challenge)
        throw new ProbeFailure(
          'auth',
          `Registry "${ref.registry}" answered 401 without a Bearer or Basic challenge`,
        )
      this.challenges.set(ref.registry, challenge)
    }
    const challenge = this.challenges.get(ref.registry)
    if (!challenge) return undefined
    const hit = this.answered.get(`${ref.registry}\n${scope}`)
    if (!res && hit && hit.challenge === challenge && hit.expiresAt > Date.now() + 5_000)
      return hit.authorization
    return this.answer(ref, challenge, scope, send, cancel)
  }

  private async answer(
    ref: ImageReference,
    challenge: Challenge,
    scope: string,
    send: SendUrl,
    cancel: Cancel,
  ): Promise<Authorization> {
    const creds = await this.credentialsFor(ref.registry, cancel)
    const keep = (authorization: Authorization, expiresAt = Infinity): Authorization => {
      this.answered.set(`${ref.registry}\n${scope}`, { challenge, authorization, expiresAt })
      return authorization
    }
    if (challenge.scheme === 'basic') {
      if (creds?.username === undefined || creds.password === undefined)
        throw new ProbeFailure(
          'auth',
          `Registry "${ref.registry}" requires authentication and no username and password were found for it`,
        )
      const basic = Buffer.from(`${creds.username}:${creds.password}`).toString('base64')
      return keep({ header: `Basic ${basic}`, withCredentials: true })
    }
    if (creds?.registryToken)
      return keep({ header: `Bearer ${creds.registryToken}`, withCredentials: true })
    const { realm, service = '' } = challenge.params
    if (!realm)
      throw new ProbeFailure(
        'auth',
        `Registry "${ref.registry}" sent a Bearer challenge without a realm`,
      )
    const key = `${realm}\n${service}\n${scope}`
    let pending = this.tokens.get(key)
    if (pending) {
      const cached = await pending.catch(() => undefined)
      if (!cached || cached.expiresAt <= Date.now()) pending = undefined
    }
    if (!pending) {
      pending = this.fetchToken(ref.registry, realm, service, scope, creds, send)
      this.tokens.set(key, pending)
      pending.catch(() => this.tokens.delete(key))
    }
    const token = await pending
    return keep(
      { header: `Bearer ${token.value}`, withCredentials: creds !== undefined },
      token.expiresAt,
    )
  }

  private credentialsFor(
    registry: string,
    cancel: Cancel,
  ): Promise<RegistryCredentials | undefined> {
    let found = this.credentials.get(registry)
    if (!found) {
      found = resolveCredentials(registry, { ...this.options, signal: cancel.signal }).catch(
        (e: unknown) => {
          this.credentials.delete(registry)
          // A failing credential helper makes the answer unknown; a broken config.json is the caller's error.
          if (isImagespecError(e) && e.code === 'E_REGISTRY_AUTH')
            throw new ProbeFailure('auth', e.message)
          throw e
        },
      )
      this.credentials.set(registry, found)
    }
    return found
  }

  /** The distribution token protocol: GET realm?service&scope (Basic credentials if any), or OAuth2 with a refresh token. */
  private async fetchToken(
    registry: string,
    realm: string,
    service: string,
    scope: string,
    creds: RegistryCredentials | undefined,
    send: SendUrl,
  ): Promise<Token> {
    let url: URL
    try {
      url = new URL(realm)
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(url.protocol)
    } catch {
      throw new ProbeFailure(
        'protocol',
        `Registry "${registry}" sent an invalid token realm "${realm}"`,
      )
    }
    this.debug(`token for ${scope} from ${url.origin}${url.pathname}`)
    let res: HttpResponse
    const headers: Record<string, string> = { accept: 'application/json' }
    if (creds?.identityToken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identityToken,
        service,
        scope,
        client_id: 'imagespec',
      })
      headers['content-type'] = 'application/x-www-form-urlencoded'
      res = await send(url, { method: 'POST', headers, body: form.toString(), maxBody: 1 << 20 })
    } else {
      if (service) url.searchParams.set('service', service)
      for (const one of scope.split(' ')) url.searchParams.append('scope', one)
      if (creds?.username !== undefined && creds.password !== undefined)
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`
      res = await send(url, { method: 'GET', headers, maxBody: 1 << 20 })
    }
    if (res.status === 401 || res.status === 403)
      throw new ProbeFailure(
        'auth',
        `The token server of registry "${registry}" refused ${creds ? 'the credentials' : 'anonymous access'} (HTTP ${res.status})`,
      )
    if (res.status !== 200)
      throw new ProbeFailure(
        'server',
        `The token server of registry "${registry}" answered HTTP ${res.status}`,
      )
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown }
    try {
      body = JSON.parse(res.body.toString('utf8'))
    } catch {
      throw new ProbeFailure(
        'protocol',
        `The token server of registry "${registry}" sent a body that is not JSON`,
      )
    }
    const value = typeof body?.token === 'string' && body.token ? body.token : body?.access_token
    if (typeof value !== 'string' || value === '')
      throw new ProbeFailure('protocol', `The token server of registry "${registry}" sent no token`)
    const lifetime =
      typeof body.expires_in === 'number' && body.expires_in > 0
        ? body.expires_in
        : DEFAULT_TOKEN_LIFETIME_S
    return { value, expiresAt: Date.now() + lifetime * 1000 }
  }
}

function pullScope(ref: ImageReference): string {
  return `repository:${ref.repository}:pull`
}
