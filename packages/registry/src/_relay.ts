// The push relay: a loopback HTTP server a local Docker engine pushes to. Everything is passed through to the real
// registry with push credentials, except the manifest put under the relay's tag, which is put by digest instead: the
// engine uploads layers its usual way (compression, existing-blob checks, mounts), and no tag is written.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ImageReference } from '@imagespec/spec'
import type { Transport } from './_transport.js'
import { randomHex, sha256 } from './_crypto.js'
import { type IndexEntry, type PushRelay, type WriteSession } from './writer.js'

const HOP_BY_HOP = new Set([
  'host',
  'connection',
  'keep-alive',
  'authorization',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
])
const MAX_MANIFEST = 4 << 20

export async function startRelay(
  ref: ImageReference,
  session: WriteSession,
  transport: Transport,
): Promise<PushRelay> {
  const tag = `imagespec-relay-${randomHex(6)}`
  const pushed: IndexEntry[] = []
  const manifestPath = `/v2/${ref.repository}/manifests/${tag}`

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      session.debug(`relay: ${req.method} ${req.url} failed: ${(e as Error).message}`)
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: (e as Error).message }] }))
      } else res.destroy()
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/'
    if (url === '/v2/' || url === '/v2') {
      res.writeHead(200, {
        'content-type': 'application/json',
        'docker-distribution-api-version': 'registry/2.0',
      })
      res.end('{}')
      return
    }
    if (req.method === 'PUT' && url === manifestPath) {
      const body = await readBody(req)
      const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim()
      const digest = await session.putManifest({ body, mediaType }, sha256(body))
      pushed.push({ mediaType, digest, size: body.length })
      res.writeHead(201, {
        location: `/v2/${ref.repository}/manifests/${digest}`,
        'docker-content-digest': digest,
        'content-length': '0',
      })
      res.end()
      return
    }
    if (url.startsWith(manifestPath)) {
      // Reads of the relay's own tag (the engine checks before pushing): it never exists.
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }),
      )
      return
    }
    const authorization = await session.authorize()
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers))
      if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v
    if (authorization) headers.authorization = authorization
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
    const up = await transport.forward(ref.apiHost, url, {
      method: req.method ?? 'GET',
      headers,
      body: hasBody ? req : undefined,
    })
    const out: Record<string, string | string[]> = {}
    for (const [k, v] of Object.entries(up.headers))
      if (v !== undefined && k !== 'connection' && k !== 'keep-alive') out[k] = v
    const location = up.headers.location
    if (location) out.location = relative(location)
    res.writeHead(up.statusCode ?? 502, out)
    up.pipe(res)
  }

  /** Upload locations point at the registry: keep only path and query, so the engine comes back through the relay. */
  function relative(location: string): string {
    try {
      const u = new URL(location, 'http://relay.invalid')
      return u.pathname + u.search
    } catch {
      return location
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const host = `127.0.0.1:${port}`
  return {
    host,
    reference: `${host}/${ref.repository}:${tag}`,
    pushed,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_MANIFEST) req.destroy(new Error('manifest too large'))
      else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
