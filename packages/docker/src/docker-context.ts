// Docker contexts, as the docker CLI resolves them: DOCKER_HOST wins, then DOCKER_CONTEXT, then `currentContext`
// in the docker config. A context's endpoint and TLS material live under $DOCKER_CONFIG/contexts.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ImagespecError } from '@imagespec/spec'

type Env = Readonly<Record<string, string | undefined>>

export interface DockerEndpoint {
  /** The engine address (`unix://…`, `tcp://…`, `ssh://…`), `undefined` for the default socket. */
  host?: string
  /** The context it came from (`default` when none). */
  context: string
  /** The environment to parse the address with: a context's TLS files become `DOCKER_CERT_PATH`/`DOCKER_TLS_VERIFY`. */
  env: Env
}

/**
 * The engine the docker CLI would talk to: `DOCKER_HOST`, else the context named by `DOCKER_CONTEXT`, else the
 * docker config's `currentContext`, else the default socket. Throws `E_CONFIG_INVALID` for a context that does not
 * exist or whose metadata cannot be read.
 */
export function resolveDockerEndpoint(env: Env = process.env): DockerEndpoint {
  if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, context: 'default', env }
  const configDir = env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker')
  const name = env.DOCKER_CONTEXT || currentContext(configDir)
  if (!name || name === 'default') return { context: 'default', env }
  const id = createHash('sha256').update(name).digest('hex')
  const metaFile = join(configDir, 'contexts', 'meta', id, 'meta.json')
  let meta: { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } }
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8'))
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT'
    throw new ImagespecError(
      'E_CONFIG_INVALID',
      missing
        ? `Docker context "${name}" not found`
        : `Cannot read Docker context "${name}" (${metaFile})`,
      {
        cause,
        field: env.DOCKER_CONTEXT ? 'DOCKER_CONTEXT' : 'currentContext',
        hint: 'List contexts with `docker context ls`, or unset DOCKER_CONTEXT',
      },
    )
  }
  const host = meta.Endpoints?.docker?.Host
  if (typeof host !== 'string' || !host)
    throw new ImagespecError(
      'E_CONFIG_INVALID',
      `Docker context "${name}" has no docker endpoint`,
      { field: 'DOCKER_CONTEXT' },
    )
  const tls = join(configDir, 'contexts', 'tls', id, 'docker')
  if (existsSync(join(tls, 'ca.pem')) || existsSync(join(tls, 'cert.pem')))
    return {
      host,
      context: name,
      env: {
        ...env,
        DOCKER_CERT_PATH: tls,
        DOCKER_TLS_VERIFY: meta.Endpoints?.docker?.SkipTLSVerify === true ? '' : '1',
      },
    }
  return {
    host,
    context: name,
    env: { ...env, DOCKER_CERT_PATH: undefined, DOCKER_TLS_VERIFY: undefined },
  }
}

function currentContext(configDir: string): string | undefined {
  try {
    const config = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as {
      currentContext?: unknown
    }
    return typeof config.currentContext === 'string' ? config.currentContext : undefined
  } catch {
    return undefined // no config (or an unreadable one): the default context, as the docker CLI does
  }
}
