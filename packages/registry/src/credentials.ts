import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import {
  DOCKER_HUB,
  DOCKER_HUB_AUTH_SERVER,
  ImagespecError,
  normalizeRegistry,
  type RegistryCredentials,
} from '@imagespec/spec'

export interface CredentialOptions {
  /** Explicit credentials by registry (`docker.io`, `ghcr.io`, `127.0.0.1:5000`); they win over the docker config. */
  credentials?: Readonly<Record<string, RegistryCredentials>>
  /** The directory holding `config.json` (default: `$DOCKER_CONFIG`, else `~/.docker`). */
  dockerConfig?: string
  /** Environment for `DOCKER_CONFIG`, `HOME` and the helpers' `PATH` (default: `process.env`). */
  env?: Readonly<Record<string, string | undefined>>
  /** Aborts a running credential helper. */
  signal?: AbortSignal
}

interface DockerConfig {
  auths?: Record<
    string,
    {
      auth?: string
      username?: string
      password?: string
      identitytoken?: string
      registrytoken?: string
    }
  >
  credsStore?: string
  credHelpers?: Record<string, string>
}

/**
 * Finds the credentials Docker would use for `registry` (as in an `ImageReference`): explicit `credentials` first,
 * then config.json: `credHelpers[registry]`, else `credsStore`, through `docker-credential-<name> get`; when no helper
 * applies or the helper has none, `auths` (`auth` = base64 `user:pass`, `identitytoken`). Resolves to `undefined` when
 * there are none. Throws `E_CONFIG_INVALID` for an unreadable config.json and `E_REGISTRY_AUTH` when a helper fails.
 */
export async function resolveCredentials(
  registry: string,
  options: CredentialOptions = {},
): Promise<RegistryCredentials | undefined> {
  const key = normalizeRegistry(registry)
  for (const [name, creds] of Object.entries(options.credentials ?? {}))
    if (normalizeRegistry(name) === key) return creds

  const env = options.env ?? process.env
  const dir = options.dockerConfig ?? env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker')
  const config = await readDockerConfig(join(dir, 'config.json'))
  if (!config) return undefined

  const helperEntry = Object.entries(config.credHelpers ?? {}).find(
    ([name]) => normalizeRegistry(name) === key,
  )
  const helper = helperEntry?.[1] ?? config.credsStore
  if (helper) {
    const serverUrl = key === DOCKER_HUB ? DOCKER_HUB_AUTH_SERVER : (helperEntry?.[0] ?? registry)
    const found = await runHelper(helper, serverUrl, env, options.signal)
    if (found) return found
  }
  const entry = Object.entries(config.auths ?? {}).find(
    ([name]) => normalizeRegistry(name) === key,
  )?.[1]
  return entry ? fromAuthEntry(entry, registry) : undefined
}

/**
 * Reads and checks the docker config.json Docker would use (`$DOCKER_CONFIG`, else `~/.docker`), as credential lookups
 * do, without running any credential helper: throws `E_CONFIG_INVALID` for an unreadable or malformed file (its
 * content is never quoted). A missing file is fine.
 */
export async function checkDockerConfig(
  options: Pick<CredentialOptions, 'env' | 'dockerConfig'> = {},
): Promise<void> {
  const env = options.env ?? process.env
  await readDockerConfig(
    join(
      options.dockerConfig ?? env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'),
      'config.json',
    ),
  )
}

async function readDockerConfig(path: string): Promise<DockerConfig | undefined> {
  let text: string
  try {
    // Read synchronously, as spec files are: a small file, and no thread pool or `node:fs/promises` to start.
    text = readFileSync(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ImagespecError('E_CONFIG_INVALID', `Cannot read docker config "${path}"`, {
      cause: e,
    })
  }
  let config: unknown
  try {
    config = JSON.parse(text)
  } catch (e) {
    // JSON.parse's message quotes the text around the error, and config.json holds passwords: keep only the position.
    const at = /position (\d+)/.exec((e as Error).message)?.[1]
    throw new ImagespecError(
      'E_CONFIG_INVALID',
      `Docker config "${path}" is not valid JSON${at ? ` (at position ${at})` : ''}`,
    )
  }
  const bad = (field: string) =>
    new ImagespecError(
      'E_CONFIG_INVALID',
      `Docker config "${path}" is invalid: "${field}" has the wrong type`,
      { field },
    )
  if (!isObject(config)) throw bad('(root)')
  if (
    config.auths !== undefined &&
    (!isObject(config.auths) || !Object.values(config.auths).every(isObject))
  )
    throw bad('auths')
  if (
    config.credHelpers !== undefined &&
    (!isObject(config.credHelpers) ||
      !Object.values(config.credHelpers).every((v) => typeof v === 'string'))
  )
    throw bad('credHelpers')
  if (config.credsStore !== undefined && typeof config.credsStore !== 'string')
    throw bad('credsStore')
  return config as DockerConfig
}

function fromAuthEntry(
  entry: NonNullable<DockerConfig['auths']>[string],
  registry: string,
): RegistryCredentials | undefined {
  const creds: RegistryCredentials = {}
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon <= 0)
      throw new ImagespecError(
        'E_CONFIG_INVALID',
        `Docker config entry for "${registry}" has an invalid "auth" value`,
        { field: 'auths' },
      )
    creds.username = decoded.slice(0, colon)
    creds.password = decoded.slice(colon + 1)
  } else if (typeof entry.username === 'string') {
    creds.username = entry.username
    if (typeof entry.password === 'string') creds.password = entry.password
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '')
    creds.identityToken = entry.identitytoken
  if (typeof entry.registrytoken === 'string' && entry.registrytoken !== '')
    creds.registryToken = entry.registrytoken
  return Object.keys(creds).length > 0 ? creds : undefined
}

/** Runs `docker-credential-<helper> get` (the docker-credential-helpers protocol). */
async function runHelper(
  helper: string,
  serverUrl: string,
  env: CredentialOptions['env'],
  signal?: AbortSignal,
): Promise<RegistryCredentials | undefined> {
  const { spawn } = await import('node:child_process')
  const program = `docker-credential-${helper}`
  const failed = (why: string, cause?: unknown) =>
    new ImagespecError(
      'E_REGISTRY_AUTH',
      `Credential helper "${program}" failed for "${serverUrl}": ${why}`,
      {
        cause,
        hint: `Check that "${program}" is on PATH and works: echo "${serverUrl}" | ${program} get`,
      },
    )
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], {
      env: { ...env },
      stdio: ['pipe', 'pipe', 'ignore'],
      signal,
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stdin.on('error', () => {}) // a helper that exits early; the exit code tells
    child.on('error', (e) =>
      reject(
        failed(
          (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found on PATH' : 'could not run',
          e,
        ),
      ),
    )
    child.on('close', (code) => {
      // The protocol's not-found answer: exit 1 with "credentials not found in native keychain" on stdout.
      if (code !== 0)
        return /credentials not found/i.test(out)
          ? resolve(undefined)
          : reject(failed(`exit code ${code}`))
      let answer: unknown
      try {
        answer = JSON.parse(out)
      } catch {
        return reject(failed('its answer is not JSON'))
      }
      if (!isObject(answer) || typeof answer.Secret !== 'string')
        return reject(failed('its answer has no "Secret"'))
      const username = typeof answer.Username === 'string' ? answer.Username : ''
      resolve(
        username === '<token>'
          ? { identityToken: answer.Secret }
          : { username, password: answer.Secret },
      )
    })
    child.stdin.end(serverUrl)
  })
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
