import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ImagespecError } from '@imagespec/spec'
import type { DockerOptions } from 'dockerode'

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
  if (scheme !== 'tcp' && scheme !== 'http' && scheme !== 'https' && scheme !== 'ssh') throw unsupported(raw)
  let url: URL
  try {
    url = new URL(withScheme)
  } catch (cause) {
    throw unsupported(raw, cause)
  }
  if (!url.hostname || (url.pathname !== '' && url.pathname !== '/')) throw unsupported(raw)
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (scheme === 'ssh') {
    return { protocol: 'ssh', host, port: Number(url.port || 22), username: url.username || undefined, address: raw }
  }
  const tls = scheme === 'https' || Boolean(env.DOCKER_TLS_VERIFY)
  const port = Number(url.port || (tls ? 2376 : 2375))
  if (!tls) return { protocol: 'http', host, port, address: `tcp://${url.host}` }
  const certPath = env.DOCKER_CERT_PATH || (env.DOCKER_TLS_VERIFY ? join(homedir(), '.docker') : undefined)
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
      return { ...none, host: target.host, port: target.port, protocol: 'https', ...readCerts(target.certPath) }
    case 'ssh':
      return {
        ...none,
        host: target.host,
        port: target.port,
        username: target.username,
        protocol: 'ssh',
        sshOptions: { agent: env.SSH_AUTH_SOCK },
      }
  }
}

function readCerts(dir: string | undefined): Pick<DockerOptions, 'ca' | 'cert' | 'key'> {
  if (!dir) return {}
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name))
    } catch (cause) {
      throw new ImagespecError('E_CONFIG_INVALID', `Cannot read the Docker TLS file "${join(dir, name)}"`, {
        cause,
        hint: 'DOCKER_CERT_PATH must hold ca.pem, cert.pem and key.pem',
        field: 'DOCKER_CERT_PATH',
      })
    }
  }
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') }
}
