import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as createTlsServer, type TlsOptions } from 'node:tls'
import { DOCKER_SOCKET } from './engine.js'

/** An HTTP/1.1 request line: method and path (without the query). */
const REQUEST_LINE = /^(GET|POST|PUT|DELETE|HEAD) (\/[^? ]*)\S* HTTP\/1\.1\r$/gm

interface ProxyBase {
  /** Every request (`POST /grpc`, `GET /version`, …) that crossed the proxy, in order; the API version prefix is dropped. */
  readonly requests: string[]
  /** Closes the proxy and every connection through it. */
  stop(): Promise<void>
}

/** A proxy on a unix socket. */
export interface EngineProxy extends ProxyBase {
  /** The proxy's unix socket: use it as `unix://<socketPath>`. */
  socketPath: string
}

/** A proxy on a loopback TCP port, plain or TLS. */
export interface TcpEngineProxy extends ProxyBase {
  /** The port on 127.0.0.1: `tcp://127.0.0.1:<port>`. */
  port: number
}

export interface UnixEngineProxyOptions {
  tcp?: false
  /** The engine socket to front (default the CI engine's, DOCKER_SOCKET), e.g. a second dockerd's. */
  target?: string
}

export interface TcpEngineProxyOptions {
  tcp: true
  /** The engine socket to front (default the CI engine's, DOCKER_SOCKET). */
  target?: string
  /**
   * Serve TLS with these options (`key`, `cert`, and `ca` + `requestCert` + `rejectUnauthorized` to demand a client
   * certificate): only connections that complete the handshake reach the engine, and only their requests are noted.
   */
  tls?: TlsOptions
}

/**
 * A front for an engine's unix socket (the CI engine's, or `target`) that pipes every connection byte for byte and notes the HTTP request lines that
 * cross it (an upgraded connection, such as `/grpc` or `/session`, carries HTTP/2 afterwards: only its first request is
 * noted). By default it listens on a unix socket of its own; with `{ tcp: true }` on a loopback port, with `tls` over
 * TLS (the engine seen as a tcp+TLS or https:// host).
 */
export function startEngineProxy(options?: UnixEngineProxyOptions): Promise<EngineProxy>
export function startEngineProxy(options: TcpEngineProxyOptions): Promise<TcpEngineProxy>
export async function startEngineProxy(
  options?: UnixEngineProxyOptions | TcpEngineProxyOptions,
): Promise<EngineProxy | TcpEngineProxy> {
  const requests: string[] = []
  const sockets = new Set<Socket>()
  const pipe = (client: Socket) => {
    const upstream = connect(options?.target ?? DOCKER_SOCKET)
    let upgraded = false
    client.on('data', (chunk: Buffer) => {
      if (upgraded) return
      const text = chunk.toString('latin1')
      for (const m of text.matchAll(REQUEST_LINE))
        requests.push(`${m[1]} ${m[2]!.replace(/^\/v1\.\d+\//, '/')}`)
      if (/^upgrade:/im.test(text)) upgraded = true
    })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream).pipe(client)
  }
  const tls = options?.tcp ? options.tls : undefined
  const server: Server = tls ? createTlsServer(tls, pipe) : createServer(pipe)
  const dir = options?.tcp ? undefined : mkdtempSync(join(tmpdir(), 'imagespec-proxy-'))
  const socketPath = dir && join(dir, 'docker.sock')
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    if (socketPath) server.listen(socketPath, resolve)
    else server.listen(0, '127.0.0.1', resolve)
  })
  const stop = async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
  return socketPath
    ? { socketPath, requests, stop }
    : { port: (server.address() as AddressInfo).port, requests, stop }
}
