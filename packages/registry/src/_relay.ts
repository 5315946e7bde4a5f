// The push relay: a loopback HTTP server a local Docker engine pushes to. Everything is passed through to the real
// registry with push credentials, except the manifest put under the relay's tag, which is put by digest instead: the
// engine uploads layers its usual way (compression, existing-blob checks), and no tag is written. The engine never
// mounts blobs through the relay itself (it mounts only from repositories it knows on the same registry name, and
// the relay's `127.0.0.1:<port>` is none), so the relay does: when the engine checks for a blob the repository lacks
// (`HEAD /v2/<repository>/blobs/<digest>`, which it sends for every layer it pushed or pulled before), the relay tries
// a cross-repository mount from the sources it was given, and answers the check again after a mount.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ImageReference } from '@imagespec/spec'
import type { Transport } from './_transport.js'
import { randomHex, sha256 } from './_crypto.js'
import { type IndexEntry, type MountedBlob, type PushRelay, type WriteSession } from './writer.js'

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
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/

export interface RelayMounts {
  /** Repositories (same registry) to mount from, in order, with the blobs each is known to hold. */
  sources: readonly { repository: string; blobs: Promise<ReadonlySet<string>> }[]
  /** One mount attempt: `true` when the blob is in the target repository afterwards. */
  mount(digest: string, from: string): Promise<boolean>
  onMount?: (mount: MountedBlob) => void
}

export async function startRelay(
  ref: ImageReference,
  session: WriteSession,
  transport: Transport,
  mounts: RelayMounts = { sources: [], mount: () => Promise.resolve(false) },
): Promise<PushRelay> {
  const tag = `imagespec-relay-${randomHex(6)}`
  const pushed: IndexEntry[] = []
  const mounted: MountedBlob[] = []
  let uploadedBytes = 0
  let uploadedBlobs = 0
  const manifestPath = `/v2/${ref.repository}/manifests/${tag}`
  const blobPrefix = `/v2/${ref.repository}/blobs/`
  const uploadPrefix = `/v2/${ref.repository}/blobs/uploads/`
  // Sources that refused this relay's credentials are not asked again.
  const refused = new Set<string>()

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
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
    const upload = url.startsWith(uploadPrefix)
    const forward = async () => {
      const authorization = await session.authorize()
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers))
        if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v
      if (authorization) headers.authorization = authorization
      // Counted as it flows: the listener is added in the tick the body is piped, so no chunk is missed.
      if (upload && hasBody) req.on('data', (c: Buffer) => (uploadedBytes += c.length))
      return transport.forward(ref.apiHost, url, {
        method: req.method ?? 'GET',
        headers,
        body: hasBody ? req : undefined,
      })
    }
    let up = await forward()
    const digest = req.method === 'HEAD' && blobDigest(url)
    if (digest && up.statusCode === 404 && mounts.sources.length) {
      up.resume()
      const from = await mountFromSources(digest)
      if (from) {
        up = await forward()
        if (up.statusCode === 200) {
          const m = { digest, from, size: Number(up.headers['content-length'] ?? 0) }
          mounted.push(m)
          mounts.onMount?.(m)
        }
      }
    }
    if (upload && req.method === 'PUT' && up.statusCode === 201) uploadedBlobs++ // the upload's closing PUT
    const out: Record<string, string | string[]> = {}
    for (const [k, v] of Object.entries(up.headers))
      if (v !== undefined && k !== 'connection' && k !== 'keep-alive') out[k] = v
    const location = up.headers.location
    if (location) out.location = relative(location)
    res.writeHead(up.statusCode ?? 502, out)
    up.pipe(res)
  }

  /** `sha256:…` of `HEAD /v2/<repository>/blobs/<digest>`, else `undefined`. */
  function blobDigest(url: string): string | undefined {
    if (!url.startsWith(blobPrefix)) return undefined
    const rest = url.slice(blobPrefix.length)
    return DIGEST_RE.test(rest) ? rest : undefined
  }

  /**
   * Tries each source known to hold the blob, in order; resolves the one it was mounted from. A failing source is not
   * asked again.
   */
  async function mountFromSources(digest: string): Promise<string | undefined> {
    for (const { repository: from, blobs } of mounts.sources) {
      if (refused.has(from) || !(await blobs).has(digest)) continue
      try {
        if (await mounts.mount(digest, from)) return from
      } catch (e) {
        // No pull access to the source (or no answer): upload instead, and do not ask that source again.
        refused.add(from)
        session.debug(`relay: mount of ${digest} from ${from} failed: ${(e as Error).message}`)
      }
    }
    return undefined
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
    mounted,
    get uploadedBytes() {
      return uploadedBytes
    },
    get uploadedBlobs() {
      return uploadedBlobs
    },
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
