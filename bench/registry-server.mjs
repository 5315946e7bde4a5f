// Bench helper for bench/registry.mjs: a throwaway docker-registry on loopback and a tiny image uploaded through the
// registry API (no engine needed).
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const REGISTRY_BIN = process.env.IMAGESPEC_REGISTRY_BIN ?? '/usr/bin/docker-registry'

const freePort = () =>
  new Promise((res, rej) => {
    const srv = createServer().on('error', rej)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => res(port))
    })
  })

const listening = (port) =>
  new Promise((res) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => (s.destroy(), res(true)))
    s.once('error', () => res(false))
  })

export async function startBenchRegistry() {
  const dir = mkdtempSync(join(tmpdir(), 'imagespec-bench-registry-'))
  const port = await freePort()
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: bench',
  ].join('\n')
  writeFileSync(join(dir, 'config.yml'), config + '\n')
  const child = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: 'ignore' })
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    }
    rmSync(dir, { recursive: true, force: true })
  }
  for (let i = 0; !(await listening(port)); i++) {
    if (child.exitCode !== null || i > 200) {
      await stop()
      throw new Error(`docker-registry did not start on port ${port}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return { host: `127.0.0.1:${port}`, port, url: `http://127.0.0.1:${port}`, stop }
}

const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`

async function uploadBlob(base, repo, blob) {
  const digest = sha(blob)
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' })
  const location = new URL(start.headers.get('location'), base)
  location.searchParams.set('digest', digest)
  const put = await fetch(location, { method: 'PUT', body: blob })
  if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status}`)
  return digest
}

/** Uploads a one-layer Docker v2 image under each of `tags`; returns the manifest digest. */
export async function uploadTinyImage(base, repo, tags) {
  const layer = gzipSync(Buffer.alloc(1024)) // an empty tar archive is 1024 zero bytes
  const layerDigest = await uploadBlob(base, repo, layer)
  const diffId = sha(Buffer.alloc(1024))
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [diffId] },
    }),
  )
  const configDigest = await uploadBlob(base, repo, config)
  const type = 'application/vnd.docker.distribution.manifest.v2+json'
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: type,
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: config.length,
      digest: configDigest,
    },
    layers: [
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        size: layer.length,
        digest: layerDigest,
      },
    ],
  })
  for (const tag of tags) {
    const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, {
      method: 'PUT',
      body: manifest,
      headers: { 'content-type': type },
    })
    if (res.status !== 201) throw new Error(`manifest upload: HTTP ${res.status}`)
  }
  return sha(manifest)
}

/**
 * Runs bench/registry-delay-proxy.mjs in its own process (so that its work does not share the bench's event loop): a
 * TCP proxy in front of `port` that makes a loopback registry behave like one `2 * delayMs` of round trip away.
 */
export async function startDelayProxy(port, delayMs) {
  const child = spawn(
    process.execPath,
    [
      new URL('./registry-delay-proxy.mjs', import.meta.url).pathname,
      String(port),
      String(delayMs),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const proxyPort = await new Promise((res, rej) => {
    child.stdout.once('data', (d) => res(Number(String(d).trim())))
    child.once('exit', (code) => rej(new Error(`delay proxy exited with ${code}`)))
  })
  return { host: `127.0.0.1:${proxyPort}`, stop: () => child.kill() }
}
