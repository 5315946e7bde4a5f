import { readFileSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import type Dockerode from 'dockerode'
import { ImagespecError } from '@imagespec/spec'
import { createDockerode, parseDockerHost, type DockerHost } from '../docker-host.js'
import { dial } from '../_modem.js'

type Env = Record<string, string | undefined>

/** TLS material for a `tcp://` buildkitd (buildctl's `--tlscacert`, `--tlscert`, `--tlskey`, `--tlsservername`). */
export interface BuildkitTls {
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
  servername?: string
}

/** Where BuildKit is, as `BUILDKIT_HOST` says. */
export type BuildkitEndpoint =
  | { kind: 'unix'; socketPath: string; address: string }
  | { kind: 'tcp'; host: string; port: number; tls?: BuildkitTls; address: string }
  /** The BuildKit embedded in a Docker engine, reached through the engine's `/grpc` endpoint. */
  | { kind: 'dockerd'; engine: DockerHost; address: string }

export const DEFAULT_BUILDKIT_HOST = 'unix:///run/buildkit/buildkitd.sock'

/**
 * Parses a BuildKit address: `unix:///path`, `tcp://host:port` (TLS when any of `BUILDKIT_TLS_CACERT`,
 * `BUILDKIT_TLS_CERT`, `BUILDKIT_TLS_KEY`, `BUILDKIT_TLS_SERVERNAME` or `BUILDKIT_TLS_DIR` is set: buildctl's
 * `--tlscacert`, `--tlscert`, `--tlskey`, `--tlsservername`, `--tlsdir`), or `dockerd+<docker host>` for a Docker
 * engine's BuildKit (`dockerd+unix:///var/run/docker.sock`, `dockerd+tcp://host:2376` with `DOCKER_TLS_VERIFY` and
 * `DOCKER_CERT_PATH`, as for `DOCKER_HOST`).
 */
export function parseBuildkitHost(
  address: string | undefined,
  env: Env = process.env,
): BuildkitEndpoint {
  const raw = address?.trim() || DEFAULT_BUILDKIT_HOST
  if (raw.startsWith('dockerd+')) {
    const engine = parseDockerHost(raw.slice('dockerd+'.length), env)
    if (engine.protocol === 'ssh') throw unsupported(raw) // one SSH connection per request cannot carry the stream
    return { kind: 'dockerd', engine, address: raw }
  }
  if (raw.startsWith('unix://')) {
    const socketPath = raw.slice('unix://'.length)
    if (!socketPath.startsWith('/')) throw unsupported(raw)
    return { kind: 'unix', socketPath, address: raw }
  }
  if (!raw.startsWith('tcp://')) throw unsupported(raw)
  let url: URL
  try {
    url = new URL(raw)
  } catch (cause) {
    throw unsupported(raw, cause)
  }
  if (!url.hostname || !url.port || (url.pathname !== '' && url.pathname !== '/'))
    throw unsupported(raw)
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  return { kind: 'tcp', host, port: Number(url.port), tls: tlsFromEnv(env), address: raw }
}

function tlsFromEnv(env: Env): BuildkitTls | undefined {
  const dir = env.BUILDKIT_TLS_DIR || undefined
  const file = (name: string, fallback: string) =>
    env[name] || (dir ? join(dir, fallback) : undefined)
  const ca = file('BUILDKIT_TLS_CACERT', 'ca.pem')
  const cert = file('BUILDKIT_TLS_CERT', 'cert.pem')
  const key = file('BUILDKIT_TLS_KEY', 'key.pem')
  const servername = env.BUILDKIT_TLS_SERVERNAME || undefined
  if (!ca && !cert && !key && !servername) return undefined
  if (Boolean(cert) !== Boolean(key)) {
    throw new ImagespecError(
      'E_CONFIG_INVALID',
      'BUILDKIT_TLS_CERT and BUILDKIT_TLS_KEY must be set together',
      {
        field: cert ? 'BUILDKIT_TLS_KEY' : 'BUILDKIT_TLS_CERT',
      },
    )
  }
  const read = (path: string | undefined, field: string) => {
    if (!path) return undefined
    try {
      return readFileSync(path)
    } catch (cause) {
      throw new ImagespecError('E_CONFIG_INVALID', `Cannot read the BuildKit TLS file "${path}"`, {
        cause,
        field,
      })
    }
  }
  return {
    ca: read(ca, 'BUILDKIT_TLS_CACERT'),
    cert: read(cert, 'BUILDKIT_TLS_CERT'),
    key: read(key, 'BUILDKIT_TLS_KEY'),
    servername,
  }
}

function unsupported(raw: string, cause?: unknown): ImagespecError {
  return new ImagespecError('E_CONFIG_INVALID', `Unsupported BuildKit host "${raw}"`, {
    cause,
    hint:
      'Use unix:///run/buildkit/buildkitd.sock, tcp://host:port (TLS through BUILDKIT_TLS_*), ' +
      'or dockerd+unix:///var/run/docker.sock / dockerd+tcp://host:port for a Docker engine',
    field: 'BUILDKIT_HOST',
  })
}

/** An open connection that speaks HTTP/2 to BuildKit's gRPC server. */
export async function connectBuildkit(
  endpoint: BuildkitEndpoint,
  docker?: Dockerode,
): Promise<Duplex> {
  switch (endpoint.kind) {
    case 'unix':
      return await connected(netConnect(endpoint.socketPath), 'connect')
    case 'tcp': {
      const { tls } = endpoint
      if (!tls) return await connected(netConnect(endpoint.port, endpoint.host), 'connect')
      const socket = tlsConnect({
        host: endpoint.host,
        port: endpoint.port,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        servername: tls.servername ?? endpoint.host,
        ALPNProtocols: ['h2'],
      })
      return await connected(socket, 'secureConnect')
    }
    case 'dockerd': {
      // buildx's docker driver: POST /grpc with an upgrade to h2c, then gRPC on the same connection
      const socket = await dial<Duplex>(docker ?? createDockerode(endpoint.engine), {
        method: 'POST',
        path: '/grpc',
        hijack: true,
        headers: { Upgrade: 'h2c' },
        statusCodes: {
          101: true,
          200: true,
          404: 'the engine has no /grpc endpoint',
          500: 'server error',
        },
      })
      if ((socket as TLSSocket).encrypted) (socket as TLSSocket).alpnProtocol = 'h2'
      return socket
    }
  }
}

function connected<T extends Duplex>(socket: T, event: 'connect' | 'secureConnect'): Promise<T> {
  return new Promise((resolve, reject) => {
    socket.once(event, () => {
      socket.off('error', reject)
      resolve(socket)
    })
    socket.once('error', reject)
  })
}
