import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ImagespecError } from '@imagespec/spec'
import Dockerode, { type DockerOptions } from 'dockerode'
import { sshOptions, sshUser } from './_ssh.js'

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock'

/** Where the engine is, as `DOCKER_HOST` (and the TLS variables) describe it. */
export type DockerHost =
  | { protocol: 'unix'; socketPath: string; address: string }
  | { protocol: 'http'; host: string; port: number; address: string }
  | { protocol: 'https'; host: string; port: number; certPath?: string; address: string }
  | { protocol: 'ssh'; host: string; port: number; username?: string; address: string }

type Env = Record<string, string | undefined>

/**
 * Parses a Docker host address the way the docker CLI does: `unix:///path`, `tcp://host:port` (TLS when
 * `DOCKER_TLS_VERIFY` is non-empty, client certificates from `DOCKER_CERT_PATH`, default `~/.docker`), `https://…`,
 * `ssh://user@host:port`, or a bare `host:port` (tcp). Default: `unix:///var/run/docker.sock`.
 */
export function parseDockerHost(address: string | undefined, env: Env = process.env): DockerHost {
  const raw = address?.trim() || DEFAULT_DOCKER_HOST
  const withScheme = raw.includes('://') ? raw : `tcp://${raw}`
  const scheme = withScheme.slice(0, withScheme.indexOf('://'))
  if (scheme === 'unix') {
    const socketPath = withScheme.slice('unix://'.length) || '/var/run/docker.sock'
    return { protocol: 'unix', socketPath, address: `unix://${socketPath}` }
  }
  if (scheme !== 'tcp' && scheme !== 'http' && scheme !== 'https' && scheme !== 'ssh')
    throw unsupported(raw)
  let url: URL
  try {
    url = new URL(withScheme)
  } catch (cause) {
    throw unsupported(raw, cause)
  }
  if (!url.hostname || (url.pathname !== '' && url.pathname !== '/')) throw unsupported(raw)
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (scheme === 'ssh') {
    return {
      protocol: 'ssh',
      host,
      port: Number(url.port || 22),
      username: url.username || undefined,
      address: raw,
    }
  }
  const tls = scheme === 'https' || Boolean(env.DOCKER_TLS_VERIFY)
  const port = Number(url.port || (tls ? 2376 : 2375))
  if (!tls) return { protocol: 'http', host, port, address: `tcp://${url.host}` }
  const certPath =
    env.DOCKER_CERT_PATH || (env.DOCKER_TLS_VERIFY ? join(homedir(), '.docker') : undefined)
  return { protocol: 'https', host, port, certPath, address: `${scheme}://${url.host}` }
}

function unsupported(raw: string, cause?: unknown): ImagespecError {
  return new ImagespecError('E_CONFIG_INVALID', `Unsupported Docker host "${raw}"`, {
    cause,
    hint: 'Use unix:///path/to/docker.sock, tcp://host:port (with DOCKER_TLS_VERIFY=1 for TLS) or ssh://user@host',
    field: 'DOCKER_HOST',
  })
}

/** dockerode/docker-modem options for a host: every field set, so that nothing is taken from the environment. */
export function dockerodeOptions(target: DockerHost, env: Env = process.env): DockerOptions {
  const none = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
  }
  switch (target.protocol) {
    case 'unix':
      return { ...none, socketPath: target.socketPath, protocol: 'http' }
    case 'http':
      return { ...none, host: target.host, port: target.port, protocol: 'http' }
    case 'https':
      return {
        ...none,
        host: target.host,
        port: target.port,
        protocol: 'https',
        ...readCerts(target.certPath),
      }
    case 'ssh':
      return {
        ...none,
        host: target.host,
        port: target.port,
        username: sshUser(target, env),
        protocol: 'ssh',
        sshOptions: sshOptions(target, env),
      }
  }
}

/**
 * A dockerode client for `target`. While it is constructed, docker-modem also reads DOCKER_HOST and DOCKER_CERT_PATH
 * from `process.env` (our options then override all it found) and throws a bare error on a TLS file there it cannot
 * read or parse, even for a plain tcp:// or ssh:// host: that becomes E_CONFIG_INVALID naming DOCKER_CERT_PATH.
 */
export function createDockerode(target: DockerHost, env: Env = process.env): Dockerode {
  const options = dockerodeOptions(target, env)
  try {
    return new Dockerode(options)
  } catch (cause) {
    // docker-modem parses DOCKER_HOST (as tcp:// when it has no "//") before it reads DOCKER_CERT_PATH
    const envHost = process.env.DOCKER_HOST ?? ''
    const certPath =
      URL.canParse(envHost.includes('//') ? envHost : `tcp://${envHost}`) &&
      process.env.DOCKER_CERT_PATH
    const reason = cause instanceof Error ? cause.message : String(cause)
    const where = certPath ? `the Docker TLS files in "${certPath}"` : 'DOCKER_HOST'
    throw new ImagespecError(
      'E_CONFIG_INVALID',
      `Cannot use ${where} (from the environment): ${reason}`,
      {
        cause,
        hint: certPath
          ? 'DOCKER_CERT_PATH must hold PEM files ca.pem, cert.pem and key.pem; unset it when the engine does not use TLS'
          : 'Use unix:///path/to/docker.sock, tcp://host:port (with DOCKER_TLS_VERIFY=1 for TLS) or ssh://user@host',
        field: certPath ? 'DOCKER_CERT_PATH' : 'DOCKER_HOST',
      },
    )
  }
}

function readCerts(dir: string | undefined): Pick<DockerOptions, 'ca' | 'cert' | 'key'> {
  if (!dir) return {}
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name))
    } catch (cause) {
      throw new ImagespecError(
        'E_CONFIG_INVALID',
        `Cannot read the Docker TLS file "${join(dir, name)}"`,
        {
          cause,
          hint: 'DOCKER_CERT_PATH must hold ca.pem, cert.pem and key.pem',
          field: 'DOCKER_CERT_PATH',
        },
      )
    }
  }
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') }
}

/** Node's names for the X.509 verification failures (OpenSSL's `X509_V_ERR_*`), plus its own host name check. */
const CERT_VERIFY = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** The peer does not speak TLS: Node's codes, and OpenSSL's packed codes in an `EPROTO` error's message. */
const NOT_TLS = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  '0A00010B',
  '0A0000C6',
])

/**
 * The error for a connection failure that TLS explains, else undefined: the engine's certificate failed verification,
 * the engine refused the client certificate, the TLS files in DOCKER_CERT_PATH are not usable, the port does not
 * speak TLS, or (plain tcp://) the port speaks only TLS. Classified by error codes (Node's, OpenSSL's) and status.
 */
export function tlsConnectionError(target: DockerHost, cause: unknown): ImagespecError | undefined {
  if (target.protocol !== 'https' && target.protocol !== 'http') return undefined
  const { code, statusCode, message } = (cause ?? {}) as {
    code?: unknown
    statusCode?: unknown
    message?: unknown
  }
  const text = typeof message === 'string' ? message.trim() : ''
  // OpenSSL's "…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:…": its packed code and reason
  const openssl = /error:([0-9A-F]{8}):[^:]*:[^:]*:([^:]+)/.exec(text)
  const reason = openssl?.[2] ?? text
  const unreachable = (what: string, hint: string, field?: string) =>
    new ImagespecError(
      'E_ENGINE_UNAVAILABLE',
      `Cannot reach the Docker engine at "${target.address}": ${what}`,
      {
        cause,
        hint,
        field,
      },
    )
  if (target.protocol === 'http') {
    // A TLS port answers plain HTTP with 400 (dockerd: "Client sent an HTTP request to an HTTPS server") or hangs up
    if (statusCode !== 400 && !(statusCode === undefined && code === 'ECONNRESET')) return undefined
    const hint =
      'If the engine listens with TLS (usually port 2376), set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH, or use https://'
    if (statusCode === 400)
      return unreachable('it answered 400 to a plain HTTP request', hint, 'DOCKER_TLS_VERIFY')
    return unreachable('the connection was closed without an answer', hint)
  }
  if (typeof code !== 'string' || statusCode !== undefined) return undefined
  const certPath = target.certPath
  const noCertPath =
    'DOCKER_CERT_PATH is not set: point it at a directory with ca.pem, cert.pem and key.pem'
  if (CERT_VERIFY.has(code)) {
    return unreachable(
      `TLS certificate verification failed: ${reason}`,
      certPath
        ? `The engine's certificate must be issued by the CA in "${join(certPath, 'ca.pem')}" ` +
            `and name the host "${target.host}"`
        : `${noCertPath} (ca.pem: the CA that issued the engine's certificate)`,
      'DOCKER_CERT_PATH',
    )
  }
  if (code.startsWith('ERR_OSSL_')) {
    // thrown while loading the key pair (bad PEM, a key that does not match the certificate, …)
    const where = certPath ? ` in "${certPath}"` : ''
    return new ImagespecError(
      'E_CONFIG_INVALID',
      `Cannot use the Docker TLS files${where}: ${reason}`,
      {
        cause,
        hint: 'DOCKER_CERT_PATH must hold PEM files: ca.pem (the CA), cert.pem and key.pem (a client certificate and its key)',
        field: 'DOCKER_CERT_PATH',
      },
    )
  }
  if (NOT_TLS.has(code) || (code === 'EPROTO' && NOT_TLS.has(openssl?.[1] ?? ''))) {
    return unreachable(
      `the port does not speak TLS (${reason})`,
      'For an engine on plain TCP use tcp://host:port without DOCKER_TLS_VERIFY',
      'DOCKER_TLS_VERIFY',
    )
  }
  if (code.startsWith('ERR_SSL_') || code === 'ECONNRESET' || code === 'EPROTO') {
    // an alert from the engine (bad or unknown client certificate), or a hang-up once it checked the certificate
    const what =
      code === 'ECONNRESET'
        ? 'the TLS connection was closed without an answer'
        : `the TLS handshake failed (${reason})`
    return unreachable(
      what,
      certPath
        ? `If the engine checks client certificates, it must accept "${join(certPath, 'cert.pem')}" (and its ` +
            'key.pem): is it issued by a CA the engine trusts?'
        : `${noCertPath} (cert.pem and key.pem: a client certificate the engine accepts)`,
      'DOCKER_CERT_PATH',
    )
  }
  return undefined
}
