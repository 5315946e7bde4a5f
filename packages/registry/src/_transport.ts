import { readFileSync } from 'node:fs'
import * as http from 'node:http'
import type * as https from 'node:https'
import { isLoopbackHost } from '@imagespec/spec'
import type { Cancel } from './_cancel.js'
import { ProbeFailure } from './_failure.js'

export interface TransportOptions {
  /** Hosts (`host` or `host:port`) served over plain HTTP or unverified HTTPS, as Docker's `insecure-registries`. */
  insecureRegistries: readonly string[]
  /** Treat loopback hosts (127.0.0.0/8, ::1, localhost) as insecure, as Docker does (default true). */
  insecureLoopback: boolean
  /** Extra CA certificates (PEM) for verified HTTPS, on top of Node's (and `NODE_EXTRA_CA_CERTS`). */
  ca?: readonly string[]
  /** Sockets per origin. */
  maxSockets: number
  debug(message: string): void
}

export interface HttpResponse {
  status: number
  /** Node's `rawHeaders` (name, value, name, value, ...): read with `header()`; building `headers` costs every probe. */
  rawHeaders: string[]
  body: Buffer
}

export interface RequestInit {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  headers: Record<string, string>
  body?: string | Buffer
  cancel: Cancel
  /** Largest body accepted; a larger one is a protocol failure. */
  maxBody: number
}

/** The first value of header `name` (lower case), or `undefined` when absent or empty. */
export function header(res: HttpResponse, name: string): string | undefined {
  const raw = res.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!
    if (key.length === name.length && key.toLowerCase() === name) return raw[i + 1] || undefined
  }
  return undefined
}

/** Every value of header `name` (lower case) joined with ", " (as Node joins `www-authenticate` and `link`). */
export function headerList(res: HttpResponse, name: string): string | undefined {
  const values: string[] = []
  const raw = res.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!
    if (key.length === name.length && key.toLowerCase() === name) values.push(raw[i + 1]!)
  }
  return values.length ? values.join(', ') : undefined
}

type Scheme = 'http' | 'https'

/**
 * HTTP(S) with keep-alive agents shared by all probes of one `createProbe()`.
 *
 * Scheme rule. A secure host gets HTTPS with a verified certificate, nothing else. An insecure host gets what Docker
 * gives its `insecure-registries`: HTTPS without certificate verification or plain HTTP, whichever works. Docker tries
 * HTTPS first; so do we for hosts listed as insecure, but for loopback hosts we try plain HTTP first (the usual local
 * registry, and no TLS setup in a short-lived process) and switch to HTTPS when the port turns out to speak TLS (an
 * HTTP 400 answer or a broken connection). The first request to a host never carries credentials, and the scheme
 * that worked is remembered per host, so credentials only travel over the scheme the host has shown it serves.
 */
export class Transport {
  private readonly plain: http.Agent
  private secure?: https.Agent
  private unverified?: https.Agent
  private httpsModule?: typeof https
  /** Per host, once its scheme is known: everything a request needs, so a warm request parses no URL. */
  private readonly routes = new Map<string, Route>()

  constructor(private readonly options: TransportOptions) {
    this.plain = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets })
  }

  isInsecure(host: string): boolean {
    const hostname = hostnameOf(host)
    if (this.options.insecureLoopback && isLoopbackHost(hostname)) return true
    return this.options.insecureRegistries.some((entry) => entry === host || entry === hostname)
  }

  /** `<scheme>://<host>` with the scheme last used for `host` (https until one worked). */
  origin(host: string): string {
    return `${this.routes.get(host)?.scheme ?? 'https'}://${host}`
  }

  /** Sends a request to `host` (`name[:port]`) at `path`, choosing the scheme as described above. */
  request(host: string, path: string, init: RequestInit): Promise<HttpResponse> {
    const route = this.routes.get(host)
    return route ? this.exchange(route, path, init) : this.firstRequest(host, path, init)
  }

  /** Sends a request to an absolute URL (token realms, redirect targets); the host's insecurity decides TLS verification. */
  async send(url: URL, init: RequestInit): Promise<HttpResponse> {
    const scheme: Scheme = url.protocol === 'https:' ? 'https' : 'http'
    return this.exchange(await this.route(scheme, url.host), url.pathname + url.search, init)
  }

  /**
   * Opens a streaming request to `host` (whose scheme an earlier `request()` settled) and resolves its response
   * unread: the body of `init` is piped from `body`. For the push relay, whose bodies are layers.
   */
  forward(
    host: string,
    path: string,
    init: { method: string; headers: Record<string, string>; body?: NodeJS.ReadableStream },
  ): Promise<http.IncomingMessage> {
    const route = this.routes.get(host)
    if (!route)
      return Promise.reject(
        new ProbeFailure('protocol', `No connection to ${host} was made before forwarding`),
      )
    return new Promise((resolve, reject) => {
      const req = open(route, path, init.method, { ...init.headers, host: route.host })
      req.on('error', (e) => reject(classify(e, route)))
      req.on('response', resolve)
      if (init.body) init.body.pipe(req)
      else req.end()
    })
  }

  close(): void {
    this.plain.destroy()
    this.secure?.destroy()
    this.unverified?.destroy()
  }

  private async firstRequest(host: string, path: string, init: RequestInit): Promise<HttpResponse> {
    if (!this.isInsecure(host))
      return this.remember(host, await this.route('https', host), path, init)
    const [first, second]: Scheme[] =
      this.options.insecureLoopback && isLoopbackHost(hostnameOf(host))
        ? ['http', 'https']
        : ['https', 'http']
    try {
      const route = await this.route(first, host)
      const res = await this.exchange(route, path, init)
      if (first === 'http' && res.status === 400)
        throw new ProbeFailure('protocol', `${host} answered HTTP 400 to plain HTTP`)
      this.routes.set(host, route)
      return res
    } catch (e) {
      if (!(e instanceof ProbeFailure)) throw e
      this.options.debug(
        `${host}: ${first.toUpperCase()} failed (${e.message}), trying ${second.toUpperCase()}`,
      )
      try {
        return await this.remember(host, await this.route(second, host), path, init)
      } catch (e2) {
        if (!(e2 instanceof ProbeFailure)) throw e2
        throw e // the first scheme's failure is the one to report
      }
    }
  }

  private async remember(
    host: string,
    route: Route,
    path: string,
    init: RequestInit,
  ): Promise<HttpResponse> {
    const res = await this.exchange(route, path, init)
    this.routes.set(host, route)
    return res
  }

  private async route(scheme: Scheme, host: string): Promise<Route> {
    const hostname = hostnameOf(host)
    const colon = host.lastIndexOf(':')
    const port = colon > host.lastIndexOf(']') ? Number(host.slice(colon + 1)) : undefined
    // `localhost` over plain HTTP is dialled as 127.0.0.1 (then ::1), its Host header kept: Node would otherwise run
    // its IPv6 pattern on the name and a resolver lookup on the thread pool, ~5 ms of a quick command's start.
    if (scheme === 'http')
      return {
        scheme,
        host,
        hostname,
        port,
        request: http.request,
        agent: this.plain,
        ...(hostname === 'localhost' && { address: '127.0.0.1' }),
      }
    const mod = (this.httpsModule ??= await import('node:https'))
    return {
      scheme,
      host,
      hostname,
      port,
      request: mod.request,
      agent: await this.httpsAgent(mod, !this.isInsecure(host)),
    }
  }

  /** One HTTP exchange; the whole body is read (up to `maxBody`). */
  private exchange(route: Route, path: string, init: RequestInit): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const { cancel } = init
      if (cancel.aborted) return reject(cancel.reason)
      let settled = false
      const req = open(
        route,
        path,
        init.method,
        route.address ? { ...init.headers, host: route.host } : init.headers,
      )
      // A hook instead of http.request's `signal` option (about 0.1 ms of CPU per request); a no-op once answered.
      cancel.onAbort(() => settled || req.destroy(cancel.reason as Error))
      req.on('error', (e) => {
        settled = true
        if (route.address === '127.0.0.1' && (e as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
          route.address = '::1' // a registry listening on IPv6 loopback only
          resolve(this.exchange(route, path, init))
        } else reject(classify(e, route))
      })
      req.on('response', (res) => {
        let chunks: Buffer[] | undefined
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > init.maxBody) {
            settled = true
            res.destroy()
            reject(
              new ProbeFailure(
                'protocol',
                `${route.host} sent a body larger than ${init.maxBody} bytes`,
              ),
            )
          } else (chunks ??= []).push(chunk)
        })
        res.on('error', (e) => {
          settled = true
          reject(classify(e, route))
        })
        res.on('end', () => {
          settled = true
          resolve({
            status: res.statusCode ?? 0,
            rawHeaders: res.rawHeaders,
            body:
              chunks === undefined
                ? EMPTY
                : chunks.length === 1
                  ? chunks[0]!
                  : Buffer.concat(chunks),
          })
        })
      })
      req.end(init.body)
    })
  }

  private async httpsAgent(mod: typeof https, verify: boolean): Promise<https.Agent> {
    const { Agent } = mod
    if (!verify)
      return (this.unverified ??= new Agent({
        keepAlive: true,
        maxSockets: this.options.maxSockets,
        rejectUnauthorized: false,
      }))
    if (this.secure) return this.secure
    let ca: string[] | undefined
    if (this.options.ca?.length) {
      // Passing `ca` replaces Node's store, so add the bundled roots and NODE_EXTRA_CA_CERTS back.
      const { rootCertificates } = await import('node:tls')
      const extraFile = process.env.NODE_EXTRA_CA_CERTS
      ca = [
        ...rootCertificates,
        ...(extraFile ? [readFileSync(extraFile, 'utf8')] : []),
        ...this.options.ca,
      ]
    }
    return (this.secure ??= new Agent({
      keepAlive: true,
      maxSockets: this.options.maxSockets,
      ...(ca && { ca }),
    }))
  }
}

interface Route {
  scheme: Scheme
  /** `name[:port]` as in references, for messages. */
  host: string
  /** Without IPv6 brackets, as `http.request` wants it. */
  hostname: string
  /** The address dialled instead of `hostname` (plain-HTTP `localhost`: 127.0.0.1, then ::1), with `host` sent as Host. */
  address?: string
  port: number | undefined
  request: typeof http.request
  agent: http.Agent
}

const EMPTY = Buffer.alloc(0)

/** A request on `route` (dialling its `address` when it has one). */
function open(
  route: Route,
  path: string,
  method: string,
  headers: http.OutgoingHttpHeaders,
): http.ClientRequest {
  return route.request({
    protocol: `${route.scheme}:`,
    hostname: route.address ?? route.hostname,
    port: route.port,
    path,
    method,
    headers,
    agent: route.agent,
    // Plain HTTP has no TLS server name; left unset, Node's agent derives one from the Host header and tests it
    // against its IPv4 and IPv6 patterns, whose first compilation costs a quick command ~5 ms.
    ...(route.scheme === 'http' && { servername: '' }),
  })
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
])

function classify(e: Error, route: Route): Error {
  const err = e as NodeJS.ErrnoException
  if (err.name === 'AbortError') return e
  if (err.code?.startsWith('HPE_'))
    return new ProbeFailure(
      'protocol',
      `${route.host} sent a malformed HTTP response (${err.code})`,
    )
  const retryable = RETRYABLE_CODES.has(err.code ?? '')
  return new ProbeFailure(
    'network',
    `${route.scheme.toUpperCase()} request to ${route.host} failed: ${err.code ?? err.message}`,
    retryable,
  )
}

function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'))
  const colon = host.lastIndexOf(':')
  return colon === -1 ? host : host.slice(0, colon)
}
