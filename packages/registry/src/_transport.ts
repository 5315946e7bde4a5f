import { readFileSync } from 'node:fs'
import * as http from 'node:http'
import type * as https from 'node:https'
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
  headers: http.IncomingHttpHeaders
  body: Buffer
}

export interface RequestInit {
  method: 'GET' | 'HEAD' | 'POST'
  headers: Record<string, string>
  body?: string
  signal: AbortSignal
  /** Largest body accepted; a larger one is a protocol failure. */
  maxBody: number
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
  private readonly schemes = new Map<string, Scheme>()

  constructor(private readonly options: TransportOptions) {
    this.plain = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets })
  }

  isInsecure(host: string): boolean {
    const hostname = hostnameOf(host)
    if (this.options.insecureLoopback && isLoopback(hostname)) return true
    return this.options.insecureRegistries.some((entry) => entry === host || entry === hostname)
  }

  /** `<scheme>://<host>` with the scheme last used for `host` (https until one worked). */
  origin(host: string): string {
    return `${this.schemes.get(host) ?? 'https'}://${host}`
  }

  /** Sends a request to `host` (`name[:port]`) at `path`, choosing the scheme as described above. */
  async request(host: string, path: string, init: RequestInit): Promise<HttpResponse> {
    const known = this.schemes.get(host)
    if (known) return this.send(new URL(`${known}://${host}${path}`), init)
    if (!this.isInsecure(host)) return this.send(new URL(`https://${host}${path}`), init)
    const [first, second]: Scheme[] = this.options.insecureLoopback && isLoopback(hostnameOf(host)) ? ['http', 'https'] : ['https', 'http']
    try {
      const res = await this.send(new URL(`${first}://${host}${path}`), init)
      if (first === 'http' && res.status === 400) throw new ProbeFailure('protocol', `${host} answered HTTP 400 to plain HTTP`)
      this.schemes.set(host, first)
      return res
    } catch (e) {
      if (!(e instanceof ProbeFailure)) throw e
      this.options.debug(`${host}: ${first.toUpperCase()} failed (${e.message}), trying ${second.toUpperCase()}`)
      try {
        const res = await this.send(new URL(`${second}://${host}${path}`), init)
        this.schemes.set(host, second)
        return res
      } catch (e2) {
        if (!(e2 instanceof ProbeFailure)) throw e2
        throw e // the first scheme's failure is the one to report
      }
    }
  }

  /** Sends a request to an absolute URL (redirect targets); the host's insecurity decides TLS verification. */
  async send(url: URL, init: RequestInit): Promise<HttpResponse> {
    const isHttps = url.protocol === 'https:'
    const agent = isHttps ? await this.httpsAgent(!this.isInsecure(url.host)) : this.plain
    const mod = isHttps ? await import('node:https') : http
    return new Promise<HttpResponse>((resolve, reject) => {
      const { signal } = init
      if (signal.aborted) return reject(signal.reason)
      const req = mod.request(url, { method: init.method, headers: init.headers, agent })
      // Our own abort hook: http.request's `signal` option costs about 0.1 ms of CPU per request.
      const onAbort = () => req.destroy(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      req.once('close', () => signal.removeEventListener('abort', onAbort))
      req.on('error', (e) => reject(classify(e, url)))
      req.on('response', (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > init.maxBody) {
            res.destroy()
            reject(new ProbeFailure('protocol', `${url.host} sent a body larger than ${init.maxBody} bytes`))
          } else chunks.push(chunk)
        })
        res.on('error', (e) => reject(classify(e, url)))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      })
      req.end(init.body)
    })
  }

  close(): void {
    this.plain.destroy()
    this.secure?.destroy()
    this.unverified?.destroy()
  }

  private async httpsAgent(verify: boolean): Promise<https.Agent> {
    const { Agent } = await import('node:https')
    if (!verify) return (this.unverified ??= new Agent({ keepAlive: true, maxSockets: this.options.maxSockets, rejectUnauthorized: false }))
    if (this.secure) return this.secure
    let ca: string[] | undefined
    if (this.options.ca?.length) {
      // Passing `ca` replaces Node's store, so add the bundled roots and NODE_EXTRA_CA_CERTS back.
      const { rootCertificates } = await import('node:tls')
      const extraFile = process.env.NODE_EXTRA_CA_CERTS
      ca = [...rootCertificates, ...(extraFile ? [readFileSync(extraFile, 'utf8')] : []), ...this.options.ca]
    }
    return (this.secure = new Agent({ keepAlive: true, maxSockets: this.options.maxSockets, ...(ca && { ca }) }))
  }
}

const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH'])

function classify(e: Error, url: URL): Error {
  const err = e as NodeJS.ErrnoException
  if (err.name === 'AbortError') return e
  if (err.code?.startsWith('HPE_')) return new ProbeFailure('protocol', `${url.host} sent a malformed HTTP response (${err.code})`)
  const retryable = RETRYABLE_CODES.has(err.code ?? '')
  return new ProbeFailure('network', `${url.protocol.slice(0, -1).toUpperCase()} request to ${url.host} failed: ${err.code ?? err.message}`, retryable)
}

function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'))
  const colon = host.lastIndexOf(':')
  return colon === -1 ? host : host.slice(0, colon)
}

/** 127.0.0.0/8, ::1 and `localhost` (the hosts Docker treats as insecure by default, plus IPv6 loopback). */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '::1' || /^127(?:\.\d{1,3}){3}$/.test(hostname)
}
