// Helpers for the registry integration tests: a tiny real image pushed through the engine, raw registry API uploads
// (for an OCI index), and a token server for distribution's `auth: token`.
import { execFile } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  makeSelfSignedCert,
  startRegistry,
  TEST_CREDENTIALS,
  TEST_LABEL,
  type RunningRegistry,
} from '@imagespec/test-utils'
import { importPKCS8, SignJWT } from 'jose'
import { afterAll, beforeAll } from 'vitest'

const run = promisify(execFile)
const DOCKER = '/usr/bin/docker'
const RUN_ID = `registry-${process.pid}-${Date.now()}`

export function tempDir(prefix = 'imagespec-registry-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Runs Debian's docker CLI with its own DOCKER_CONFIG (credentials never touch ~/.docker). */
export async function docker(
  args: string[],
  dockerConfig: string,
  input?: string,
): Promise<string> {
  const child = run(DOCKER, args, {
    env: { ...process.env, DOCKER_CONFIG: dockerConfig, DOCKER_BUILDKIT: '1' },
  })
  if (input !== undefined) child.child.stdin!.end(input)
  return (await child).stdout
}

/** Builds a one-file `FROM scratch` image (labelled for cleanup) and returns its local name. */
async function buildTinyImage(dockerConfig: string): Promise<string> {
  const dir = tempDir('imagespec-tiny-')
  writeFileSync(join(dir, 'hello.txt'), `hello from ${RUN_ID}\n`)
  writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n')
  const name = `imagespec-test/registry-tiny:${RUN_ID}`
  await docker(['build', '-q', '--label', `${TEST_LABEL}=${RUN_ID}`, '-t', name, dir], dockerConfig)
  rmSync(dir, { recursive: true, force: true })
  return name
}

/** Tags `image` as `target`, pushes it through the engine and returns the pushed manifest digest. */
export async function pushThroughEngine(
  image: string,
  target: string,
  dockerConfig: string,
): Promise<string> {
  await docker(['tag', image, target], dockerConfig)
  try {
    const out = await docker(['push', target], dockerConfig)
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(out)?.[1]
    if (!digest) throw new Error(`no digest in docker push output: ${out}`)
    return digest
  } finally {
    await docker(['rmi', target], dockerConfig).catch(() => undefined)
  }
}

/** `docker login` to `registry` in `dockerConfig` with its htpasswd user, else TEST_CREDENTIALS (a token server's user). */
export async function dockerLogin(registry: RunningRegistry, dockerConfig: string): Promise<void> {
  const { username, password } = registry.credentials ?? TEST_CREDENTIALS
  await docker(['login', '-u', username, '--password-stdin', registry.host], dockerConfig, password)
}

/** The tiny image of a test file and the DOCKER_CONFIG directory its docker CLI calls use. */
export interface TinyImage {
  image: string
  dockerConfig: string
}

/**
 * As beforeAll/afterAll hooks of the calling file (nothing when `skip`): a DOCKER_CONFIG directory and the tiny image
 * built with it; afterwards both are removed. Read the fields inside hooks and tests.
 */
export function useTinyImage(skip: boolean): TinyImage {
  const tiny = {} as TinyImage
  beforeAll(async () => {
    if (skip) return
    tiny.dockerConfig = tempDir()
    tiny.image = await buildTinyImage(tiny.dockerConfig)
  })
  afterAll(async () => {
    if (tiny.image) await docker(['rmi', tiny.image], tiny.dockerConfig).catch(() => undefined)
    if (tiny.dockerConfig) rmSync(tiny.dockerConfig, { recursive: true, force: true })
  })
  return tiny
}

/**
 * `docker login` to an auth registry (htpasswd, or token auth whose server takes TEST_CREDENTIALS) in the tiny image's
 * DOCKER_CONFIG, then pushes the tiny image through the engine as each `repo:tag` of `refs`; the pushed digests.
 */
export async function loginAndPush(
  registry: RunningRegistry,
  tiny: TinyImage,
  ...refs: string[]
): Promise<string[]> {
  await dockerLogin(registry, tiny.dockerConfig)
  const digests: string[] = []
  for (const ref of refs)
    digests.push(await pushThroughEngine(tiny.image, `${registry.host}/${ref}`, tiny.dockerConfig))
  return digests
}

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json'
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`

async function uploadBlob(base: string, repo: string, blob: Buffer): Promise<string> {
  const digest = sha(blob)
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' })
  if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status}`)
  const location = new URL(start.headers.get('location')!, base)
  location.searchParams.set('digest', digest)
  const put = await fetch(location, {
    method: 'PUT',
    body: blob,
    headers: { 'content-type': 'application/octet-stream' },
  })
  if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status}`)
  return digest
}

async function putManifest(
  base: string,
  repo: string,
  reference: string,
  mediaType: string,
  body: string,
): Promise<string> {
  const res = await fetch(`${base}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': mediaType },
  })
  if (res.status !== 201) throw new Error(`manifest upload: HTTP ${res.status} ${await res.text()}`)
  return sha(body)
}

/** The media types of a one-layer image in each format. */
const FORMATS = {
  oci: {
    manifest: OCI_MANIFEST,
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar',
  },
  docker: {
    manifest: DOCKER_V2,
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
} as const

type Platform = { os: string; architecture: string; variant?: string }

/**
 * Uploads the config of an image for `platform` whose one layer is `layer` (already uploaded) and returns the image's
 * manifest (JSON text, not put yet).
 */
async function oneLayerManifest(
  base: string,
  repo: string,
  layer: { digest: string; size: number },
  platform: Platform,
  format: keyof typeof FORMATS,
): Promise<string> {
  const media = FORMATS[format]
  const config = Buffer.from(
    JSON.stringify({
      ...platform,
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
      config: {},
    }),
  )
  const configDigest = await uploadBlob(base, repo, config)
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: media.manifest,
    config: { mediaType: media.config, digest: configDigest, size: config.length },
    layers: [{ mediaType: media.layer, ...layer }],
  })
}

/**
 * Uploads a multi-platform OCI index through the raw registry API (plain HTTP, no auth): one tiny image per platform,
 * then the index as `repo:tag`. Returns the index digest.
 */
export async function pushIndex(
  base: string,
  repo: string,
  tag: string,
  platforms: Platform[],
): Promise<string> {
  const layer = Buffer.from('not really a tar, the registry does not look')
  const uploaded = { digest: await uploadBlob(base, repo, layer), size: layer.length }
  const manifests = []
  for (const platform of platforms) {
    const manifest = await oneLayerManifest(base, repo, uploaded, platform, 'oci')
    const digest = await putManifest(base, repo, sha(manifest), OCI_MANIFEST, manifest)
    manifests.push({ mediaType: OCI_MANIFEST, digest, size: Buffer.byteLength(manifest), platform })
  }
  return putManifest(
    base,
    repo,
    tag,
    OCI_INDEX,
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }),
  )
}

/**
 * Uploads one tiny Docker v2 image through the raw registry API (plain HTTP, no auth)
 * under each of `tags`; returns its manifest digest.
 */
export async function pushTags(
  base: string,
  repo: string,
  tags: readonly string[],
): Promise<string> {
  const layer = Buffer.from(`a layer of ${repo}`)
  const uploaded = { digest: await uploadBlob(base, repo, layer), size: layer.length }
  const manifest = await oneLayerManifest(
    base,
    repo,
    uploaded,
    { os: 'linux', architecture: 'amd64' },
    'docker',
  )
  let digest = ''
  for (const tag of tags) digest = await putManifest(base, repo, tag, DOCKER_V2, manifest)
  return digest
}

export interface Front {
  /** `127.0.0.1:<port>` */
  host: string
  /** `METHOD /path?query` of every request received, in order. */
  requests: string[]
  /** Every forwarded request with the registry's status and the bytes of its body, in order of completion. */
  exchanges: { method: string; url: string; status: number; bytes: number }[]
  close(): void
}

/**
 * A loopback HTTP front for a real registry: forwards every request (headers included, so auth works through it) and
 * records it. `tagsList` replaces the answer to `GET /v2/<name>/tags/list`; `paginate` pages that list by `n`/`last`
 * with a `Link: <…>; rel="next"` header, as distribution v3 and most registries do (Debian's docker-registry 2.8
 * ignores `n` on tag lists: it only pages the catalog).
 */
export async function startFront(
  upstream: string,
  options: { tagsList?: (res: ServerResponse) => void; paginate?: boolean } = {},
): Promise<Front> {
  const target = new URL(upstream)
  const requests: string[] = []
  const exchanges: Front['exchanges'] = []
  const forward = (
    req: IncomingMessage,
    path: string,
    onResponse: (res: IncomingMessage) => void,
  ) => {
    let bytes = 0
    req.on('data', (c: Buffer) => (bytes += c.length))
    const out = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path,
        headers: { ...req.headers, host: target.host },
      },
      (res) => {
        exchanges.push({ method: req.method!, url: path, status: res.statusCode!, bytes })
        onResponse(res)
      },
    )
    out.on('error', () => undefined)
    req.pipe(out)
  }
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    const url = new URL(req.url!, 'http://front')
    const list = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname)
    if (list && options.tagsList) return options.tagsList(res)
    if (list && options.paginate && url.searchParams.has('n')) {
      return forward(req, url.pathname, (up) => {
        const chunks: Buffer[] = []
        up.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
          if (up.statusCode !== 200)
            return res.writeHead(up.statusCode!, up.headers).end(Buffer.concat(chunks))
          const all = (
            (JSON.parse(Buffer.concat(chunks).toString()) as { tags: string[] | null }).tags ?? []
          ).sort()
          const n = Number(url.searchParams.get('n'))
          const last = url.searchParams.get('last')
          const rest = last === null ? all : all.filter((t) => t > last)
          const page = rest.slice(0, n)
          const headers: Record<string, string> = { 'content-type': 'application/json' }
          if (rest.length > n)
            headers.link = `</v2/${list[1]}/tags/list?last=${encodeURIComponent(page.at(-1)!)}&n=${n}>; rel="next"`
          res.writeHead(200, headers).end(JSON.stringify({ name: list[1], tags: page }))
        })
      })
    }
    forward(req, req.url!, (up) => {
      res.writeHead(up.statusCode!, up.headers)
      up.pipe(res)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    host: `127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    exchanges,
    close: () => {
      server.close()
      server.closeAllConnections()
    },
  }
}

export interface TokenServer {
  url: string
  /** The `auth:` block for startRegistry. */
  auth: Record<string, unknown>
  requests: IncomingMessage[]
  close(): void
}

/** A docker-registry with token auth and its token server (which takes TEST_CREDENTIALS). */
export interface TokenRegistry {
  registry: RunningRegistry
  tokens: TokenServer
  /** The token server's directory; it holds no config.json, so it also serves as an empty DOCKER_CONFIG. */
  dir: string
  stop(): Promise<void>
}

export async function startTokenRegistry(): Promise<TokenRegistry> {
  const dir = tempDir()
  const tokens = await startTokenServer(TEST_CREDENTIALS, dir)
  const registry = await startRegistry({ auth: tokens.auth })
  return {
    registry,
    tokens,
    dir,
    async stop() {
      tokens.close()
      await registry.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * A token server for distribution's `auth: token` (docker/distribution docs/spec/auth/token.md): `GET /token` with
 * Basic credentials answers an RS256 JWT whose `x5c` header carries the self-signed certificate that the registry's
 * `rootcertbundle` trusts. The right credentials get the requested actions; anonymous callers get a token without
 * access (so the registry refuses them); wrong credentials get 401.
 */
async function startTokenServer(
  creds: { username: string; password: string },
  dir: string,
): Promise<TokenServer> {
  const { cert: certFile, key: keyFile } = makeSelfSignedCert(dir, {
    prefix: 'token-',
    cn: 'imagespec-token',
  })
  const key = await importPKCS8(readFileSync(keyFile, 'utf8'), 'RS256')
  const x5c = [new X509Certificate(readFileSync(certFile)).raw.toString('base64')]
  const service = 'imagespec-test-registry'
  const issuer = 'imagespec-test-issuer'
  const good = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`
  const requests: IncomingMessage[] = []
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a test token server; a failure shows as a failed request
  const server = createServer(async (req, res) => {
    requests.push(req)
    const url = new URL(req.url!, 'http://x')
    const authorization = req.headers.authorization
    if (authorization !== undefined && authorization !== good)
      return res.writeHead(401).end('{"details":"wrong credentials"}')
    const access =
      authorization === good
        ? url.searchParams
            .getAll('scope')
            .flatMap((s) => s.split(' '))
            .map((s) => {
              const [type, name, actions] = [
                s.slice(0, s.indexOf(':')),
                s.slice(s.indexOf(':') + 1, s.lastIndexOf(':')),
                s.slice(s.lastIndexOf(':') + 1),
              ]
              return { type, name, actions: actions.split(',') }
            })
        : []
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', x5c })
      .setIssuer(issuer)
      .setAudience(url.searchParams.get('service') ?? '')
      .setSubject(authorization === good ? creds.username : '')
      .setIssuedAt()
      .setNotBefore('-10s')
      .setExpirationTime('5m')
      .setJti(`${Date.now()}-${Math.random()}`)
      .sign(key)
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token, expires_in: 300 }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`
  return {
    url,
    auth: { token: { realm: url, service, issuer, rootcertbundle: certFile } },
    requests,
    close: () => {
      server.close()
      server.closeAllConnections()
    },
  }
}

/** Writes a `docker-credential-imagespectest` helper that knows one registry, and returns the directory to put on PATH. */
export function writeCredentialHelper(
  dir: string,
  serverUrl: string,
  username: string,
  secret: string,
): string {
  const file = join(dir, 'docker-credential-imagespectest')
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      'read -r server',
      `if [ "$1" = get ] && [ "$server" = '${serverUrl}' ]; then`,
      `  printf '{"ServerURL":"%s","Username":"${username}","Secret":"${secret}"}' "$server"`,
      'else',
      '  echo "credentials not found in native keychain"',
      '  exit 1',
      'fi',
    ].join('\n') + '\n',
    { mode: 0o755 },
  )
  return dir
}
