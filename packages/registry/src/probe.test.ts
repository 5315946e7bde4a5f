// The probe's protocol edge cases and faults against in-process loopback fakes of a registry (node:http / node:net).
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createProbe, probeImage } from './index.js'
import {
  closers,
  closeFakes,
  serve,
  tcp,
  DOCKER_V2,
  DIGEST,
  ok,
  fast,
} from '../test/_fake-registry.js'

afterEach(closeFakes)

describe('probe against a fake registry', () => {
  it('sends HEAD with all four manifest types in Accept; 200 exists, 404 missing', async () => {
    const { host, requests } = await serve((req, res) =>
      req.url!.endsWith('/1') ? ok(res) : res.writeHead(404).end(),
    )
    const prober = createProbe(fast)
    closers.push(() => prober.close())
    expect(await prober.probe(`${host}/a/b:1`)).toEqual({
      status: 'exists',
      reference: `${host}/a/b:1`,
      digest: DIGEST,
      mediaType: DOCKER_V2,
    })
    expect(await prober.probe(`${host}/a/b:2`)).toEqual({
      status: 'missing',
      reference: `${host}/a/b:2`,
    })
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'HEAD /v2/a/b/manifests/1',
      'HEAD /v2/a/b/manifests/2',
    ])
    expect(requests[0]!.headers.accept!.split(', ').sort()).toEqual([
      'application/vnd.docker.distribution.manifest.list.v2+json',
      DOCKER_V2,
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
    ])
  })

  it('falls back to GET where HEAD is refused, and computes the digest when none is sent', async () => {
    const body = JSON.stringify({ schemaVersion: 2, config: { digest: DIGEST }, layers: [] })
    const { host, requests } = await serve((req, res) => {
      if (req.method === 'HEAD') return res.writeHead(405).end()
      res.writeHead(200, { 'content-type': 'application/json' }).end(body)
    })
    const answer = await probeImage(`${host}/a:1`, fast)
    expect(answer).toMatchObject({
      status: 'exists',
      digest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    })
    expect(requests.map((r) => r.method)).toEqual(['HEAD', 'GET'])
  })

  it('reads an index for its platforms in one GET and reports the missing ones (attestations ignored)', async () => {
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { digest: DIGEST, platform: { os: 'linux', architecture: 'amd64' } },
        { digest: DIGEST, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { digest: DIGEST, platform: { os: 'unknown', architecture: 'unknown' } },
      ],
    }
    const { host, requests } = await serve((_req, res) =>
      res
        .writeHead(200, {
          'content-type': index.mediaType,
          'docker-content-digest': `sha256:${'2'.repeat(64)}`,
        })
        .end(JSON.stringify(index)),
    )
    const answer = await probeImage(`${host}/multi:1`, {
      ...fast,
      platforms: ['linux/amd64', 'linux/arm64', 'linux/s390x'],
    })
    expect(answer).toMatchObject({
      status: 'exists',
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      missingPlatforms: ['linux/s390x'],
    })
    // Wanted platforms need the body: a GET at once, not a HEAD and then a GET.
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /v2/multi/manifests/1'])
  })

  it('retries a 500 and then answers', async () => {
    let n = 0
    const { host, requests } = await serve((_req, res) =>
      n++ === 0 ? res.writeHead(500).end() : ok(res),
    )
    expect(await probeImage(`${host}/a:1`, fast)).toMatchObject({ status: 'exists' })
    expect(requests).toHaveLength(2)
  })

  it('honours Retry-After on 429', async () => {
    let n = 0
    const { host } = await serve((_req, res) =>
      n++ === 0 ? res.writeHead(429, { 'retry-after': '1' }).end() : ok(res),
    )
    const start = Date.now()
    expect(await probeImage(`${host}/a:1`, fast)).toMatchObject({ status: 'exists' })
    expect(Date.now() - start).toBeGreaterThanOrEqual(950)
  })

  it('answers unknown at once when Retry-After is longer than the time left', async () => {
    const { host } = await serve((_req, res) => res.writeHead(429, { 'retry-after': '120' }).end())
    const start = Date.now()
    const answer = await probeImage(`${host}/a:1`, fast)
    expect(answer).toMatchObject({ status: 'unknown', reason: 'server' })
    expect(answer.status === 'unknown' && answer.message).toContain('HTTP 429')
    expect(Date.now() - start).toBeLessThan(1000)
  })

  it('gives up after the retries on a registry that keeps failing', async () => {
    const { host, requests } = await serve((_req, res) => res.writeHead(503).end())
    expect(await probeImage(`${host}/a:1`, { ...fast, retries: 2 })).toMatchObject({
      status: 'unknown',
      reason: 'server',
    })
    expect(requests).toHaveLength(3)
  })

  it('never waits past the timeout for a server that accepts and never answers', async () => {
    const host = await tcp(() => {})
    const start = Date.now()
    const answer = await probeImage(`${host}/a:1`, { ...fast, timeoutMs: 700 })
    const elapsed = Date.now() - start
    expect(answer).toMatchObject({ status: 'unknown', reason: 'timeout' })
    expect(elapsed).toBeGreaterThanOrEqual(690)
    // Bounded, with room for a loaded machine: a hang would take the default timeout (many seconds).
    expect(elapsed).toBeLessThan(700 + 2500)
  })

  it('never waits past the timeout for a body that never ends', async () => {
    const { host } = await serve((req, res) => {
      if (req.method === 'HEAD')
        return res.writeHead(200, { 'content-type': 'application/json' }).end()
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"schemaVersion":')
    })
    const start = Date.now()
    expect(await probeImage(`${host}/a:1`, { ...fast, timeoutMs: 600 })).toMatchObject({
      status: 'unknown',
      reason: 'timeout',
    })
    expect(Date.now() - start).toBeLessThan(600 + 2500)
  })

  it('answers unknown(protocol) for garbage headers and garbage bodies', async () => {
    const garbage = await tcp((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n'))
    expect(await probeImage(`${garbage}/a:1`, fast)).toMatchObject({
      status: 'unknown',
      reason: 'protocol',
    })
    const { host } = await serve((req, res) => {
      if (req.method === 'HEAD') return res.writeHead(200).end()
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not a manifest</html>')
    })
    expect(await probeImage(`${host}/a:1`, fast)).toMatchObject({
      status: 'unknown',
      reason: 'protocol',
    })
  })

  it('answers unknown(network) for connections that are reset', async () => {
    const host = await tcp((s) => s.resetAndDestroy())
    expect(await probeImage(`${host}/a:1`, { ...fast, retries: 1 })).toMatchObject({
      status: 'unknown',
      reason: 'network',
    })
  })

  it('answers unknown(timeout) at once when the caller aborts', async () => {
    const host = await tcp(() => {})
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const start = Date.now()
    expect(await probeImage(`${host}/a:1`, { ...fast, signal: controller.signal })).toMatchObject({
      status: 'unknown',
      reason: 'timeout',
      message: 'The probe was aborted',
    })
    expect(Date.now() - start).toBeLessThan(2500) // at once: well before the 5 s timeout, even on a loaded machine
  })
})

describe('localhost registries', () => {
  it.each(['127.0.0.1', '::1'])(
    'reaches a plain-HTTP registry on %s as localhost, sending Host: localhost:<port>',
    async (address) => {
      const hosts: string[] = []
      const server = createServer((req, res) => {
        hosts.push(req.headers.host!)
        ok(res)
      })
      await new Promise<void>((r) => server.listen(0, address, r))
      closers.push(() => server.close() && server.closeAllConnections())
      const port = (server.address() as { port: number }).port
      const prober = createProbe(fast)
      closers.push(() => prober.close())
      const ref = `localhost:${port}/a:1`
      expect(await prober.probe(ref)).toEqual({
        status: 'exists',
        reference: ref,
        digest: DIGEST,
        mediaType: DOCKER_V2,
      })
      expect(await prober.probe(ref)).toMatchObject({ status: 'exists' })
      expect(hosts).toEqual([`localhost:${port}`, `localhost:${port}`])
    },
  )
})
