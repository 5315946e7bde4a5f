import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isImagespecError } from '@imagespec/spec'
import {
  ensureBaseImage,
  skipWithoutEngine,
  startEngineProxy,
  type TcpEngineProxy,
} from '@imagespec/test-utils'
import {
  createBuildkitClient,
  createDockerClient,
  type BuildkitDriver,
  type DockerDriver,
} from '../src/index.js'
import {
  buildWithSecret,
  docker,
  expectNoTrace,
  failure,
  imageName,
  removeLabelled,
  RUN_ID,
  tarOf,
} from './_helpers.js'

/**
 * The tcp+TLS and https:// paths against the real engine, without a second dockerd: a Node TLS server on a loopback
 * port that demands a client certificate signed by a test CA and pipes every accepted connection byte for byte to the
 * engine's unix socket. Requests, the BuildKit session's HTTP upgrade and the streamed build output all cross it.
 */

const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`

interface Pki {
  /** The CA certificate. */
  ca: string
  /** Issues a server certificate (for localhost and 127.0.0.1) or a client certificate; paths to it and its key. */
  issue(kind: 'server' | 'client', cn: string): { cert: string; key: string }
}

/** A test CA made with openssl (EC P-256 keys, valid for two days). */
function makePki(dir: string, name: string): Pki {
  mkdirSync(dir, { recursive: true })
  const cnf = join(dir, 'openssl.cnf')
  writeFileSync(cnf, OPENSSL_CNF)
  const ca = join(dir, 'ca.pem')
  const caKey = join(dir, 'ca-key.pem')
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  const openssl = (...args: string[]) =>
    void execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    caKey,
    '-out',
    ca,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-config',
    cnf,
    '-extensions',
    'ca',
  )
  let serial = 1
  return {
    ca,
    issue(kind, cn) {
      const cert = join(dir, `${kind}-cert.pem`)
      const key = join(dir, `${kind}-key.pem`)
      const csr = join(dir, `${kind}.csr`)
      openssl(
        'req',
        '-new',
        ...ec,
        '-keyout',
        key,
        '-out',
        csr,
        '-subj',
        `/CN=${cn}`,
        '-config',
        cnf,
      )
      openssl(
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        ca,
        '-CAkey',
        caKey,
        '-set_serial',
        String(++serial),
        '-out',
        cert,
        '-days',
        '2',
        '-extfile',
        cnf,
        '-extensions',
        kind,
      )
      return { cert, key }
    },
  }
}

type CertFiles = Partial<Record<'ca.pem' | 'cert.pem' | 'key.pem', string>>

/** A DOCKER_CERT_PATH directory holding the given files (name → path of the file to copy). */
function certDir(root: string, name: string, files: CertFiles): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  for (const [file, source] of Object.entries(files)) copyFileSync(source, join(dir, file))
  return dir
}

/** Listens on a free loopback port; resolves the port. */
async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** Failures must come this fast: well below ping's own 5 s timeout, so they are immediate, not a hang cut short. */
const QUICK_MS = 3000

/** Runs `call`, which must fail with an ImagespecError within QUICK_MS; the error. */
async function failsQuickly(call: () => Promise<unknown>): Promise<unknown> {
  const { err, ms } = await failure(call)
  expect(isImagespecError(err)).toBe(true)
  expect(ms).toBeLessThan(QUICK_MS)
  return err
}

/** A ping of the engine with `env`, which must fail quickly; the error. */
const pingFailure = (env: Record<string, string>) =>
  failsQuickly(() => createDockerClient({ env }).ping())

/** What dockerd (Go's TLS listener) answers to a plain HTTP request on its TLS port. */
const DOCKERD_PLAIN_HTTP_ANSWER =
  'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n'

describe.skipIf(await skipWithoutEngine())(
  'tcp+TLS and https:// hosts (real engine behind a TLS front)',
  () => {
    let root: string
    let port: number
    let front: TcpEngineProxy
    let base: string
    /** DOCKER_CERT_PATH directories, good and broken in the ways their names say. */
    const dirs = {} as Record<
      'good' | 'caOnly' | 'wrongCa' | 'foreignClient' | 'mismatchedKey' | 'empty',
      string
    >
    /** The HTTP requests (method and path) that crossed the TLS front. */
    const requests = () => front.requests
    /** A plain-TCP front for the engine, and a stand-in for dockerd's answer to plain HTTP on its TLS port. */
    let plain: TcpEngineProxy
    let httpsOnly: Server
    let httpsOnlyPort: number

    const tlsEnv = (certPath: string) => ({
      DOCKER_HOST: `tcp://127.0.0.1:${port}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certPath,
    })

    beforeAll(async () => {
      base = await ensureBaseImage()
      root = mkdtempSync(join(tmpdir(), 'imagespec-tls-'))
      const pki = makePki(join(root, 'pki'), 'imagespec test CA')
      const server = pki.issue('server', 'localhost')
      const client = pki.issue('client', 'imagespec-client')
      const other = makePki(join(root, 'other-pki'), 'some other CA')
      const foreign = other.issue('client', 'foreign-client')
      const good = { 'ca.pem': pki.ca, 'cert.pem': client.cert, 'key.pem': client.key }
      dirs.good = certDir(root, 'good', good)
      dirs.caOnly = certDir(root, 'ca-only', { 'ca.pem': pki.ca })
      dirs.wrongCa = certDir(root, 'wrong-ca', { ...good, 'ca.pem': other.ca })
      dirs.foreignClient = certDir(root, 'foreign', {
        ...good,
        'cert.pem': foreign.cert,
        'key.pem': foreign.key,
      })
      dirs.mismatchedKey = certDir(root, 'mismatched', { ...good, 'key.pem': foreign.key })
      dirs.empty = certDir(root, 'empty', {})

      // only clients whose certificate the CA issued get through (and have their requests noted)
      front = await startEngineProxy({
        tcp: true,
        tls: {
          key: readFileSync(server.key),
          cert: readFileSync(server.cert),
          ca: readFileSync(pki.ca),
          requestCert: true,
          rejectUnauthorized: true,
        },
      })
      port = front.port
      plain = await startEngineProxy({ tcp: true })
      httpsOnly = createServer((socket) => {
        socket.on('error', () => {})
        socket.once('data', () => socket.end(DOCKERD_PLAIN_HTTP_ANSWER))
      })
      httpsOnlyPort = await listen(httpsOnly)
    })

    afterAll(async () => {
      await removeLabelled()
      await Promise.all([front?.stop(), plain?.stop()])
      if (httpsOnly) await new Promise((resolve) => httpsOnly.close(resolve))
      if (root) rmSync(root, { recursive: true, force: true })
    })

    const forms = [
      ['tcp:// with DOCKER_TLS_VERIFY=1', () => createDockerClient({ env: tlsEnv(dirs.good) })],
      [
        'https://',
        () =>
          createDockerClient({
            env: { DOCKER_HOST: `https://127.0.0.1:${port}`, DOCKER_CERT_PATH: dirs.good },
          }),
      ],
    ] as const

    it.each(forms)(
      '%s: pings the engine and inspects an image through the TLS front',
      async (form, make) => {
        const driver = make()
        expect(driver.host).toMatchObject({
          protocol: 'https',
          host: '127.0.0.1',
          port,
          certPath: dirs.good,
        })
        requests().length = 0
        const info = await driver.ping()
        expect(info.apiVersion).toMatch(/^1\.\d+$/)
        expect(info.version).not.toBe('')
        const image = await driver.inspectImage(base)
        expect(image?.id).toMatch(/^sha256:[0-9a-f]{64}$/)
        expect(image?.id).toBe((await docker.getImage(base).inspect()).Id)
        expect(await driver.inspectImage(`imagespec-test/absent:${RUN_ID}`)).toBeUndefined()
        // the calls really crossed the TLS front (and nothing else answered them)
        expect(requests(), form).toEqual([
          'GET /version',
          `GET /images/${base}/json`,
          `GET /images/imagespec-test/absent:${RUN_ID}/json`,
        ])
      },
    )

    it('verifies the engine certificate by host name too (tcp://localhost)', async () => {
      const driver = createDockerClient({
        env: { ...tlsEnv(dirs.good), DOCKER_HOST: `tcp://localhost:${port}` },
      })
      expect((await driver.ping()).apiVersion).toMatch(/^1\.\d+$/)
    })

    /** The Engine API's /build with its session, and BuildKit's control API on /grpc (BUILDKIT_HOST=dockerd+tcp://). */
    const builds = [
      ...forms.map(
        ([form, make]) =>
          [
            form,
            make as () => DockerDriver | BuildkitDriver,
            ['POST /session', 'POST /build'],
          ] as const,
      ),
      [
        'BUILDKIT_HOST=dockerd+tcp:// (control API on /grpc, never /build)',
        () =>
          createBuildkitClient({
            env: { ...tlsEnv(dirs.good), BUILDKIT_HOST: `dockerd+tcp://127.0.0.1:${port}` },
          }),
        ['POST /grpc'],
      ] as const,
    ]

    it.each(builds)(
      '%s: builds with a secret mount (the BuildKit session upgrade runs over TLS)',
      async (form, make, calls) => {
        const driver = make()
        const tag = imageName(
          `tls-${form.startsWith('https') ? 'https' : form.startsWith('tcp') ? 'tcp' : 'grpc'}`,
        )
        const secret = `tls-secret-${RUN_ID}-${form}`
        const sum = createHash('sha256').update(secret).digest('hex')
        requests().length = 0
        const { result, events } = await buildWithSecret(driver, tag, secret, {
          // the step fails unless it reads the secret; RUN_ID and the form keep it unique (BuildKit shares identical
          // steps across builds, and a secret is not part of a step's identity)
          Dockerfile:
            `FROM ${base}\nCOPY sub/hello.txt /hello.txt\n` +
            `RUN --mount=type=secret,id=secret_0,required=true echo "${RUN_ID} ${form}" && cat /hello.txt && ` +
            `test "$(sha256sum < /run/secrets/secret_0)" = "${sum}  -"\n`,
          'sub/hello.txt': `hello over TLS ${RUN_ID}\n`,
        })
        expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
        expect(requests()).toEqual(calls)
        expect(events.filter((e) => e.type === 'log').map((e) => e.line)).toContain(
          `hello over TLS ${RUN_ID}`,
        )
        expect((await driver.inspectImage(tag))?.id).toBe(result.imageId) // the Engine API, through the front too
        // the step is there (BuildKit drops --mount), the secret is not
        expect(JSON.stringify(await docker.getImage(tag).history())).toContain(
          'sha256sum < /run/secrets/secret_0',
        )
        await expectNoTrace(secret, tag, events)
        expect(events.at(-1)).toEqual({ type: 'result', ...result })
      },
    )

    it("dockerd+tcp:// fails quickly with a certificate verification error when ca.pem did not issue the engine's", async () => {
      const driver = createBuildkitClient({
        env: { ...tlsEnv(dirs.wrongCa), BUILDKIT_HOST: `dockerd+tcp://127.0.0.1:${port}` },
      })
      const err = await failsQuickly(() =>
        driver.build({ context: tarOf({ Dockerfile: 'FROM scratch\n' }) }),
      )
      expect(err).toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        message: expect.stringContaining('TLS certificate verification failed'),
      })
    })

    it('names the missing file when DOCKER_CERT_PATH holds only ca.pem (no client certificate)', () => {
      let err: unknown
      try {
        createDockerClient({ env: tlsEnv(dirs.caOnly) })
      } catch (e) {
        err = e
      }
      expect(isImagespecError(err)).toBe(true)
      expect(err).toMatchObject({
        code: 'E_CONFIG_INVALID',
        message: `Cannot read the Docker TLS file "${join(dirs.caOnly, 'cert.pem')}"`,
        hint: 'DOCKER_CERT_PATH must hold ca.pem, cert.pem and key.pem',
        field: 'DOCKER_CERT_PATH',
      })
    })

    it('names the first missing file when DOCKER_CERT_PATH holds none of them', () => {
      expect(() => createDockerClient({ env: tlsEnv(dirs.empty) })).toThrow(
        expect.objectContaining({
          code: 'E_CONFIG_INVALID',
          message: `Cannot read the Docker TLS file "${join(dirs.empty, 'ca.pem')}"`,
          field: 'DOCKER_CERT_PATH',
        }),
      )
    })

    it('reports unusable TLS files (a key that does not match cert.pem) as E_CONFIG_INVALID', async () => {
      expect(await pingFailure(tlsEnv(dirs.mismatchedKey))).toMatchObject({
        code: 'E_CONFIG_INVALID',
        message: `Cannot use the Docker TLS files in "${dirs.mismatchedKey}": key values mismatch`,
        field: 'DOCKER_CERT_PATH',
      })
    })

    it('fails quickly with a certificate verification error when ca.pem did not issue the engine certificate', async () => {
      const driver = createDockerClient({ env: tlsEnv(dirs.wrongCa) })
      const err = await failsQuickly(() => driver.ping())
      expect(err).toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        message:
          `Cannot reach the Docker engine at "tcp://127.0.0.1:${port}": ` +
          'TLS certificate verification failed: self-signed certificate in certificate chain',
        hint:
          `The engine's certificate must be issued by the CA in "${join(dirs.wrongCa, 'ca.pem')}" ` +
          'and name the host "127.0.0.1"',
        field: 'DOCKER_CERT_PATH',
      })
      // a build fails the same way, before anything is sent to the engine
      expect(
        await failsQuickly(() =>
          driver.build({ context: tarOf({ Dockerfile: 'FROM scratch\n' }) }),
        ),
      ).toMatchObject({ code: 'E_ENGINE_UNAVAILABLE', message: (err as Error).message })
    })

    it('fails quickly when the engine refuses the client certificate', async () => {
      expect(await pingFailure(tlsEnv(dirs.foreignClient))).toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        // a Node TLS server checks the client certificate after the handshake and hangs up (dockerd sends an alert)
        message:
          `Cannot reach the Docker engine at "tcp://127.0.0.1:${port}": ` +
          'the TLS connection was closed without an answer',
        hint:
          `If the engine checks client certificates, it must accept "${join(dirs.foreignClient, 'cert.pem')}" ` +
          '(and its key.pem): is it issued by a CA the engine trusts?',
        field: 'DOCKER_CERT_PATH',
      })
    })

    it('fails clearly for https:// without DOCKER_CERT_PATH (no CA for the engine, no client certificate)', async () => {
      const driver = createDockerClient({ env: { DOCKER_HOST: `https://127.0.0.1:${port}` } })
      expect(driver.host).toEqual({
        protocol: 'https',
        host: '127.0.0.1',
        port,
        address: `https://127.0.0.1:${port}`,
      })
      const err = await failsQuickly(() => driver.ping())
      expect(err).toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        message: expect.stringContaining(': TLS certificate verification failed: '),
        hint:
          'DOCKER_CERT_PATH is not set: point it at a directory with ca.pem, cert.pem and key.pem ' +
          "(ca.pem: the CA that issued the engine's certificate)",
        field: 'DOCKER_CERT_PATH',
      })
    })

    it('fails clearly when DOCKER_TLS_VERIFY is unset against the TLS port', async () => {
      const driver = createDockerClient({
        env: { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_CERT_PATH: dirs.good },
      })
      expect(driver.host.protocol).toBe('http')
      const hint =
        'If the engine listens with TLS (usually port 2376), set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH, or use https://'
      const err = await failsQuickly(() => driver.ping())
      expect(err).toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        message: `Cannot reach the Docker engine at "tcp://127.0.0.1:${port}": the connection was closed without an answer`,
        hint,
      })
      // dockerd itself answers plain HTTP on its TLS port with a 400
      const dockerd = createDockerClient({
        env: { DOCKER_HOST: `tcp://127.0.0.1:${httpsOnlyPort}` },
      })
      await expect(dockerd.ping()).rejects.toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        message:
          `Cannot reach the Docker engine at "tcp://127.0.0.1:${httpsOnlyPort}": ` +
          'it answered 400 to a plain HTTP request',
        hint,
        field: 'DOCKER_TLS_VERIFY',
      })
    })

    it('fails clearly when DOCKER_TLS_VERIFY is set against a plain-TCP engine port', async () => {
      const err = await pingFailure({
        ...tlsEnv(dirs.good),
        DOCKER_HOST: `tcp://127.0.0.1:${plain.port}`,
      })
      expect(err).toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        message:
          `Cannot reach the Docker engine at "tcp://127.0.0.1:${plain.port}": ` +
          'the port does not speak TLS (wrong version number)',
        hint: 'For an engine on plain TCP use tcp://host:port without DOCKER_TLS_VERIFY',
      })
    })
  },
)
