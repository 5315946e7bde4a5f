// Registry writes against an in-process fake registry: push-scope Bearer tokens, retries, index assembly.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createIndex, createRegistryWriter } from './index.js'

const closers: (() => void)[] = []
afterEach(() => closers.splice(0).forEach((close) => close()))

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ host: string; seen: string[] }> {
  const seen: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`)
      handler(req, res, body)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  closers.push(() => server.close() && server.closeAllConnections())
  return { host: `127.0.0.1:${(server.address() as { port: number }).port}`, seen }
}

const V2 = 'application/vnd.docker.distribution.manifest.v2+json'
const OCI = 'application/vnd.oci.image.manifest.v1+json'
const D = (c: string) => `sha256:${c.repeat(64)}`

describe('createIndex', () => {
  it('makes a Docker manifest list over Docker children, an OCI index otherwise', () => {
    const amd = {
      mediaType: V2,
      digest: D('a'),
      size: 10,
      platform: { os: 'linux', architecture: 'amd64' },
    }
    const arm = {
      mediaType: V2,
      digest: D('b'),
      size: 11,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    }
    const list = createIndex([amd, arm])
    expect(list.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json')
    expect(JSON.parse(list.body).manifests).toEqual([
      { mediaType: V2, digest: D('a'), size: 10, platform: { architecture: 'amd64', os: 'linux' } },
      {
        mediaType: V2,
        digest: D('b'),
        size: 11,
        platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
      },
    ])
    expect(createIndex([amd, { ...arm, mediaType: OCI }]).mediaType).toBe(
      'application/vnd.oci.image.index.v1+json',
    )
  })
})

describe('writes against a fake registry', () => {
  it('gets a push-scope Bearer token, puts the manifest, and retries a 503', async () => {
    let puts = 0
    const token = await serve((req, res) => {
      const url = new URL(req.url!, 'http://x')
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token: `tok:${url.searchParams.getAll('scope').join('+')}` }))
    })
    const reg = await serve((req, res, body) => {
      const want = 'Bearer tok:repository:a/b:pull,push'
      if (req.headers.authorization !== want) {
        res
          .writeHead(401, {
            'www-authenticate': `Bearer realm="http://${token.host}/token",service="fake"`,
          })
          .end()
        return
      }
      if (req.method === 'PUT' && ++puts === 1)
        return void res.writeHead(503, { 'retry-after': '0' }).end()
      if (req.method === 'PUT') {
        expect(req.headers['content-type']).toBe(
          'application/vnd.docker.distribution.manifest.list.v2+json',
        )
        expect(JSON.parse(body).manifests).toHaveLength(1)
        return void res.writeHead(201).end()
      }
      res.writeHead(200).end('{}')
    })
    const writer = createRegistryWriter({ dockerConfig: '/nonexistent', timeoutMs: 5000 })
    closers.push(() => writer.close())
    const index = createIndex([
      { mediaType: V2, digest: D('c'), size: 3, platform: { os: 'linux', architecture: 'amd64' } },
    ])
    expect(await writer.putManifest(`${reg.host}/a/b:t`, index)).toBe(index.digest)
    // The probe's session rules: anonymous first, one answer to the 401 (a token for the push scope), a 503 retried.
    expect(reg.seen).toEqual([
      'PUT /v2/a/b/manifests/t -',
      'PUT /v2/a/b/manifests/t Bearer tok:repository:a/b:pull,push',
      'PUT /v2/a/b/manifests/t Bearer tok:repository:a/b:pull,push',
    ])
    // The registry challenged before: the next write authenticates up front with the cached token.
    reg.seen.length = 0
    expect(await writer.putManifest(`${reg.host}/a/b:u`, index)).toBe(index.digest)
    expect(reg.seen).toEqual(['PUT /v2/a/b/manifests/u Bearer tok:repository:a/b:pull,push'])
  })

  it('reads an index with its entries, and answers undefined on 404', async () => {
    const index = createIndex([
      { mediaType: V2, digest: D('a'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      {
        mediaType: V2,
        digest: D('b'),
        size: 2,
        platform: { os: 'unknown', architecture: 'unknown' },
      },
    ])
    const reg = await serve((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end('{}')
      if (req.url!.endsWith('/x'))
        return void res.writeHead(200, { 'content-type': index.mediaType }).end(index.body)
      res.writeHead(404).end()
    })
    const writer = createRegistryWriter({ dockerConfig: '/nonexistent' })
    closers.push(() => writer.close())
    const doc = await writer.getManifest(`${reg.host}/a:x`)
    expect(doc).toMatchObject({
      digest: index.digest,
      mediaType: index.mediaType,
      size: index.body.length,
    })
    expect(doc!.manifests!.map((m) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'unknown', architecture: 'unknown' },
    ])
    expect(await writer.getManifest(`${reg.host}/a:y`)).toBeUndefined()
  })

  it('fails with E_REGISTRY_AUTH on a 403 and E_PUSH_FAILED on a rejected manifest', async () => {
    const reg = await serve((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end('{}')
      if (req.url!.includes('denied')) return void res.writeHead(403).end()
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(
          JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid' }] }),
        )
    })
    const writer = createRegistryWriter({ dockerConfig: '/nonexistent' })
    closers.push(() => writer.close())
    const m = { body: '{}', mediaType: V2 }
    await expect(writer.putManifest(`${reg.host}/denied:1`, m)).rejects.toMatchObject({
      code: 'E_REGISTRY_AUTH',
    })
    await expect(writer.putManifest(`${reg.host}/bad:1`, m)).rejects.toMatchObject({
      code: 'E_PUSH_FAILED',
      message: expect.stringContaining('MANIFEST_INVALID: manifest invalid'),
    })
  })
})

describe('blob mounts through the push relay', () => {
  it('mounts only blobs a source holds, skips a refusing source, cancels a refused mount', async () => {
    const layers = (...ds: string[]) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: V2,
        config: {
          mediaType: 'application/vnd.docker.container.image.v1+json',
          digest: D('c'),
          size: 1,
        },
        layers: ds.map((digest) => ({ mediaType: 'x', digest, size: 1 })),
      })
    const inApp = new Set<string>()
    const reg = await serve((req, res) => {
      const url = new URL(req.url!, 'http://x')
      const mount = url.searchParams.get('mount')
      const from = url.searchParams.get('from')
      if (url.pathname === '/v2/') return void res.writeHead(200).end('{}')
      if (url.pathname === '/v2/base/manifests/1')
        return void res.writeHead(200, { 'content-type': V2 }).end(layers(D('1'), D('2')))
      if (url.pathname === '/v2/secret/manifests/1')
        return void res.writeHead(200, { 'content-type': V2 }).end(layers(D('1')))
      if (req.method === 'HEAD' && url.pathname.startsWith('/v2/app/blobs/'))
        return void res
          .writeHead(inApp.has(url.pathname.slice(14)) ? 200 : 404, { 'content-length': '7' })
          .end()
      if (req.method === 'POST' && from === 'secret') return void res.writeHead(403).end()
      if (req.method === 'POST' && mount === D('1')) {
        inApp.add(mount)
        return void res.writeHead(201).end()
      }
      if (req.method === 'POST')
        return void res.writeHead(202, { location: '/v2/app/blobs/uploads/u1' }).end()
      if (req.method === 'DELETE') return void res.writeHead(204).end()
      res.writeHead(404).end()
    })
    const writer = createRegistryWriter({ dockerConfig: '/nonexistent', timeoutMs: 5000 })
    closers.push(() => writer.close())
    const relay = await writer.pushRelay(`${reg.host}/app:1`, {
      mountFrom: [
        `${reg.host}/secret:1`,
        `${reg.host}/base:1`,
        'ghcr.io/base:1',
        `${reg.host}/app:0`,
      ],
    })
    const head = async (d: string) =>
      (await fetch(`http://${relay.host}/v2/app/blobs/${d}`, { method: 'HEAD' })).status
    try {
      expect(await head(D('1'))).toBe(200)
      expect(await head(D('2'))).toBe(404)
      expect(await head(D('3'))).toBe(404)
    } finally {
      await relay.close()
    }
    expect(relay.mounted).toEqual([{ digest: D('1'), from: 'base', size: 7 }])
    const calls = reg.seen
      .map((l) => l.split(' ').slice(0, 2).join(' '))
      .filter((l) => !l.includes('/manifests/') && l !== 'GET /v2/')
    expect(calls).toEqual([
      `HEAD /v2/app/blobs/${D('1')}`,
      `POST /v2/app/blobs/uploads/?mount=${encodeURIComponent(D('1'))}&from=secret`,
      `POST /v2/app/blobs/uploads/?mount=${encodeURIComponent(D('1'))}&from=base`,
      `HEAD /v2/app/blobs/${D('1')}`,
      `HEAD /v2/app/blobs/${D('2')}`,
      `POST /v2/app/blobs/uploads/?mount=${encodeURIComponent(D('2'))}&from=base`,
      'DELETE /v2/app/blobs/uploads/u1',
      `HEAD /v2/app/blobs/${D('3')}`,
    ])
  })
})
