import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const REGISTRY_BIN = process.env.IMAGESPEC_REGISTRY_BIN ?? '/usr/bin/docker-registry'

/** The user and password of the test registries' htpasswd Basic auth (and of the registry tests' token server). */
export const TEST_CREDENTIALS: Readonly<{ username: string; password: string }> = Object.freeze({
  username: 'tester',
  password: 'testpass',
})

export interface StartRegistryOptions {
  /** htpasswd (bcrypt) Basic auth: `true` for TEST_CREDENTIALS, or these credentials. */
  basic?: true | { username: string; password: string }
  /** Serve TLS with a freshly made self-signed certificate for localhost/127.0.0.1. */
  tls?: boolean
  /** A raw `auth:` block for the registry config (e.g. `{ token: { realm, service, issuer, rootcertbundle } }`). */
  auth?: Record<string, unknown>
  /** Port to listen on (default: a free one). */
  port?: number
}

export interface RunningRegistry {
  /** `127.0.0.1:<port>` */
  host: string
  port: number
  /** `http://127.0.0.1:<port>` or `https://…` */
  url: string
  /** PEM file of the self-signed CA/cert when `tls` is set. */
  caFile?: string
  /** The htpasswd user when `basic` is set. */
  credentials?: { username: string; password: string }
  dir: string
  logs(): string
  stop(): Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', rej)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() =>
        typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port')),
      )
    })
  })
}

/**
 * Makes a self-signed certificate (RSA, PKCS#8 key) for localhost and 127.0.0.1 in `dir`, as `<prefix>cert.pem` and
 * `<prefix>key.pem`, with the common name `cn`; returns the cert and key paths.
 */
export function makeSelfSignedCert(
  dir: string,
  { prefix = '', cn = 'localhost' }: { prefix?: string; cn?: string } = {},
): { cert: string; key: string } {
  const cert = join(dir, `${prefix}cert.pem`)
  const key = join(dir, `${prefix}key.pem`)
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '7',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  return { cert, key }
}

/** Starts Debian's docker-registry on loopback with a temporary storage directory and waits until `/v2/` answers. */
export async function startRegistry(opts: StartRegistryOptions = {}): Promise<RunningRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'imagespec-registry-'))
  const port = opts.port ?? (await freePort())
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: imagespec-test-secret',
  ]
  let caFile: string | undefined
  if (opts.tls) {
    const { cert, key } = makeSelfSignedCert(dir)
    caFile = cert
    lines.push('  tls:', `    certificate: ${cert}`, `    key: ${key}`)
  }
  const credentials = opts.basic === true ? { ...TEST_CREDENTIALS } : opts.basic
  if (credentials) {
    const htpasswd = execFileSync(
      'htpasswd',
      ['-Bbn', credentials.username, credentials.password],
      {
        encoding: 'utf8',
      },
    )
    writeFileSync(join(dir, 'htpasswd'), htpasswd)
    lines.push(
      'auth:',
      '  htpasswd:',
      '    realm: imagespec-test',
      `    path: ${join(dir, 'htpasswd')}`,
    )
  } else if (opts.auth) {
    lines.push(`auth: ${JSON.stringify(opts.auth)}`)
  }
  writeFileSync(join(dir, 'config.yml'), lines.join('\n') + '\n')
  let output = ''
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (d) => (output += d))
  child.stderr?.on('data', (d) => (output += d))
  const scheme = opts.tls ? 'https' : 'http'
  const url = `${scheme}://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`docker-registry exited with ${child.exitCode}: ${output}`)
    }
    if (await tcpOpen(port)) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`docker-registry did not listen on ${port} within 10 s: ${output}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    url,
    caFile,
    credentials,
    dir,
    logs: () => output,
    stop,
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const { connect } = net
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      res(true)
    })
    s.once('error', () => res(false))
  })
}

const ACCEPT = [
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
].join(', ')

/** `host/repo:tag` → the plain HTTP API base of its repository and its tag (`localhost` as 127.0.0.1). */
function apiOf(image: string): { api: string; tag: string } {
  const slash = image.indexOf('/')
  const colon = image.lastIndexOf(':')
  const host = image.slice(0, slash).replace(/^localhost(?=:|$)/, '127.0.0.1')
  return { api: `http://${host}/v2/${image.slice(slash + 1, colon)}`, tag: image.slice(colon + 1) }
}

/**
 * Copies image `from` (a manifest or an index with its children) to `to` through the registry API, blob by blob, with
 * the same digests (plain HTTP, no auth: the loopback registries). Resolves `to`.
 */
export async function copyImage(from: string, to: string): Promise<string> {
  const src = apiOf(from)
  const dst = apiOf(to)
  const ok = async (res: Response, what: string, status: number) => {
    if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`)
    return res
  }
  const copyBlob = async (digest: string) => {
    if ((await fetch(`${dst.api}/blobs/${digest}`, { method: 'HEAD' })).status === 200) return
    const blob = await ok(await fetch(`${src.api}/blobs/${digest}`), `blob ${digest}`, 200)
    const body = Buffer.from(await blob.arrayBuffer())
    const start = await ok(
      await fetch(`${dst.api}/blobs/uploads/`, { method: 'POST' }),
      'upload start',
      202,
    )
    const location = new URL(start.headers.get('location')!, dst.api)
    location.searchParams.set('digest', digest)
    await ok(
      await fetch(location, {
        method: 'PUT',
        body,
        headers: { 'content-type': 'application/octet-stream' },
      }),
      `upload of ${digest}`,
      201,
    )
  }
  const copyManifest = async (ref: string, as: string) => {
    const res = await ok(
      await fetch(`${src.api}/manifests/${ref}`, { headers: { accept: ACCEPT } }),
      `manifest ${ref} of ${from}`,
      200,
    )
    const type = res.headers.get('content-type')!.split(';')[0]!
    const body = Buffer.from(await res.arrayBuffer())
    const doc = JSON.parse(body.toString()) as {
      manifests?: { digest: string }[]
      config?: { digest: string }
      layers?: { digest: string }[]
    }
    for (const child of doc.manifests ?? []) await copyManifest(child.digest, child.digest)
    for (const blob of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])])
      await copyBlob(blob.digest)
    await ok(
      await fetch(`${dst.api}/manifests/${as}`, {
        method: 'PUT',
        body,
        headers: { 'content-type': type },
      }),
      `manifest put of ${to}`,
      201,
    )
  }
  await copyManifest(src.tag, dst.tag)
  return to
}
