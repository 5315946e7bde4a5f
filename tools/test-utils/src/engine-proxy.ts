import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DOCKER_SOCKET } from './engine.js'

/** An HTTP/1.1 request line: method and path (without the query). */
const REQUEST_LINE = /^(GET|POST|PUT|DELETE|HEAD) (\/[^? ]*)\S* HTTP\/1\.1\r$/gm

export interface EngineProxy {
  /** The proxy's unix socket: use it as `unix://<socketPath>`. */
  socketPath: string
  /** Every request (`POST /grpc`, `GET /v1.41/version`, …) that crossed the proxy, in order; the API version prefix is dropped. */
  readonly requests: string[]
  stop(): Promise<void>
}

/**
 * A unix socket in front of the engine's socket that pipes every connection byte for byte and notes the HTTP request
 * lines that cross it (an upgraded connection, such as `/grpc` or `/session`, carries HTTP/2 afterwards: only its
 * first request is noted).
 */
export async function startEngineProxy(): Promise<EngineProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'imagespec-proxy-'))
  const socketPath = join(dir, 'docker.sock')
  const requests: string[] = []
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(DOCKER_SOCKET)
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
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, resolve)
  })
  return {
    socketPath,
    requests,
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
