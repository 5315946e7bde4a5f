import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { homedir, userInfo } from 'node:os'
import { join } from 'node:path'
import { ImagespecError, isImagespecError } from '@imagespec/spec'
import type { DockerOptions } from 'dockerode'
import type { DockerHost } from './docker-host.js'

type Env = Record<string, string | undefined>
type SshOptions = NonNullable<DockerOptions['sshOptions']>
type HostKeyAlgorithms = Extract<
  NonNullable<NonNullable<SshOptions['algorithms']>['serverHostKey']>,
  unknown[]
>

/** An `ssh://[user@]host[:port]` engine address, as `parseDockerHost` returns it. */
export interface SshTarget {
  host: string
  port: number
  username?: string
  address: string
}

/** The system-wide known_hosts file, read after the user's one (as ssh's `GlobalKnownHostsFile`). */
export const GLOBAL_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts'

/** How long the TCP connect, the SSH handshake and the login may take together (ssh2's `readyTimeout`). */
const READY_TIMEOUT_MS = 20_000

/**
 * The known_hosts files checked for the engine's host key: `IMAGESPEC_SSH_KNOWN_HOSTS` alone when it is set, else
 * `$HOME/.ssh/known_hosts` then `/etc/ssh/ssh_known_hosts` (those that exist).
 */
export function knownHostsFiles(env: Env): string[] {
  if (env.IMAGESPEC_SSH_KNOWN_HOSTS) return [env.IMAGESPEC_SSH_KNOWN_HOSTS]
  return [join(env.HOME || homedir(), '.ssh', 'known_hosts'), GLOBAL_KNOWN_HOSTS]
}

/** The login name: the one in the address, else the local user's (as ssh does). */
export function sshUser(target: SshTarget, env: Env = process.env): string | undefined {
  if (target.username) return target.username
  try {
    return userInfo().username
  } catch {
    return env.USER || env.LOGNAME || undefined
  }
}

/**
 * ssh2 connect options for the engine's host: the agent from `SSH_AUTH_SOCK`, host key verification against
 * known_hosts (refusing unknown, changed and revoked keys), and the host key types known for the host preferred in the
 * key exchange, so that a server with several host keys presents one that known_hosts holds.
 */
export function sshOptions(target: SshTarget, env: Env): SshOptions {
  const files = knownHostsFiles(env)
  const options: SshOptions = {
    agent: env.SSH_AUTH_SOCK || undefined,
    readyTimeout: READY_TIMEOUT_MS,
    hostVerifier: (key: Buffer) => {
      // ssh2 calls this while parsing the key exchange and turns a throw into the connection's 'error', so the
      // ImagespecError reaches the request unchanged
      verifyHostKey(target, key, files)
      return true
    },
  }
  const preferred = preferredHostKeyAlgorithms(target, files) as HostKeyAlgorithms
  if (preferred.length > 0) {
    // ssh2 applies the operations in key order: take the known types out of its default list, then put them first
    options.algorithms = { serverHostKey: { remove: preferred, prepend: preferred, append: [] } }
  }
  return options
}

/** `host` on port 22, else `[host]:port`: the name known_hosts files list a host under. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase()
  return port === 22 ? name : `[${name}]:${port}`
}

/** One key line of a known_hosts file. */
export interface KnownHostsEntry {
  file: string
  line: number
  marker?: '@revoked' | '@cert-authority'
  hosts: string
  type: string
  key: Buffer
}

/** The key lines of a known_hosts file; comments, blank and malformed lines are skipped (as ssh does). */
export function parseKnownHosts(text: string, file: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = []
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/)
    if (fields[0] === '' || fields[0]?.startsWith('#')) return
    let marker: KnownHostsEntry['marker']
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority')
      marker = fields.shift() as typeof marker
    else if (fields[0]?.startsWith('@')) return
    const [hosts, type, blob] = fields
    if (!hosts || !type || !blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return
    const key = Buffer.from(blob, 'base64')
    if (keyType(key) !== type) return
    entries.push({ file, line: i + 1, marker, hosts, type, key })
  })
  return entries
}

/**
 * Whether a known_hosts host field lists `name` (from {@link knownHostsName}): a hashed entry (`|1|salt|hash`,
 * HMAC-SHA1 of the name), or comma-separated patterns with `*` and `?` wildcards, where a matching `!pattern`
 * excludes the name.
 */
export function hostsFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|')
    if (!salt || !hash) return false
    const expected = Buffer.from(hash, 'base64')
    const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest()
    return expected.length === actual.length && timingSafeEqual(expected, actual)
  }
  let matched = false
  for (const item of hosts.split(',')) {
    const negated = item.startsWith('!')
    if (!globToRegExp((negated ? item.slice(1) : item).toLowerCase()).test(name)) continue
    if (negated) return false
    matched = true
  }
  return matched
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}$`)
}

/** The key type named at the start of an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, …). */
function keyType(key: Buffer): string | undefined {
  if (key.length < 4) return undefined
  const length = key.readUInt32BE(0)
  return length > 0 && length <= 64 && key.length >= 4 + length
    ? key.toString('latin1', 4, 4 + length)
    : undefined
}

/** `SHA256:…`, the fingerprint ssh and ssh-keygen -l print. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`
}

/** The entries of the files that name the host; missing files are skipped, unreadable ones are an error. */
function entriesFor(name: string, files: readonly string[]): KnownHostsEntry[] {
  const found: KnownHostsEntry[] = []
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw new ImagespecError(
        'E_CONFIG_INVALID',
        `Cannot read the SSH known_hosts file "${file}"`,
        {
          cause,
          hint: 'Make it readable, or point IMAGESPEC_SSH_KNOWN_HOSTS at another known_hosts file',
          field: 'IMAGESPEC_SSH_KNOWN_HOSTS',
        },
      )
    }
    found.push(...parseKnownHosts(text, file).filter((e) => hostsFieldMatches(e.hosts, name)))
  }
  return found
}

/**
 * Checks the key an SSH server presented against the known_hosts files, as ssh's `StrictHostKeyChecking=yes` does:
 * a key listed for the host passes; a key marked `@revoked`, a different key of the same type (changed) or a key of a
 * host that is not listed (unknown) throws `E_ENGINE_UNAVAILABLE` naming the host and the files.
 */
export function verifyHostKey(target: SshTarget, key: Buffer, files: readonly string[]): void {
  const name = knownHostsName(target.host, target.port)
  const entries = entriesFor(name, files)
  const type = keyType(key) ?? 'unknown'
  const shown = `${type} key ${fingerprint(key)}`
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key.equals(key))
  if (revoked) {
    throw new ImagespecError(
      'E_ENGINE_UNAVAILABLE',
      `The SSH host key of ${name} (${shown}) is marked @revoked in ${revoked.file} line ${revoked.line}`,
      { hint: 'The server must present another host key; ask its owner', field: 'DOCKER_HOST' },
    )
  }
  const keys = entries.filter((e) => e.marker === undefined)
  if (keys.some((e) => e.key.equals(key))) return
  const changed = keys.find((e) => e.type === type)
  if (changed) {
    throw new ImagespecError(
      'E_ENGINE_UNAVAILABLE',
      `The SSH host key of ${name} has changed: the server presented the ${shown}, ` +
        `${changed.file} line ${changed.line} holds another one`,
      {
        hint:
          'Someone may be intercepting the connection (man in the middle), or the host was reinstalled: check the ' +
          "new fingerprint with the host's owner, then remove the old key with " +
          `ssh-keygen -R "${name}" -f ${changed.file}`,
        field: 'DOCKER_HOST',
      },
    )
  }
  const where = files.join(' or ')
  const types = [...new Set(keys.map((e) => e.type))].join(', ')
  const known = keys.length > 0 ? ` (it lists only ${types} keys for it)` : ''
  const login = target.username ? `${target.username}@${target.host}` : target.host
  throw new ImagespecError(
    'E_ENGINE_UNAVAILABLE',
    `The SSH host key of ${name} (${shown}) is not in ${where}${known}`,
    {
      hint:
        "Check the fingerprint with the host's owner, then record the key: connect once with " +
        `ssh -p ${target.port} ${login}, or set IMAGESPEC_SSH_KNOWN_HOSTS to a known_hosts file that lists it`,
      field: 'DOCKER_HOST',
    },
  )
}

/** ssh2 host key algorithms for the key types known_hosts lists for the host, in file order. */
function preferredHostKeyAlgorithms(target: SshTarget, files: readonly string[]): string[] {
  let entries: KnownHostsEntry[]
  try {
    entries = entriesFor(knownHostsName(target.host, target.port), files)
  } catch {
    return [] // reported when the connection checks the key
  }
  const algorithms = entries
    .filter((e) => e.marker === undefined)
    .flatMap((e) => HOST_KEY_ALGORITHMS[e.type] ?? [])
  return [...new Set(algorithms)]
}

const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
}

/** ssh2's error shape: `level` says which stage failed. */
interface Ssh2Error extends Error {
  level?: string
  code?: string
}

/**
 * For an `ssh://` engine: an `E_ENGINE_UNAVAILABLE` error for a failure of the SSH connection to its host (refused
 * login, agent, timeout, socket, handshake; told apart by ssh2's `level`, not by message text), or the ImagespecError
 * the host key check threw. Undefined for other hosts and other errors.
 */
export function sshFailure(target: DockerHost, err: unknown): ImagespecError | undefined {
  if (target.protocol !== 'ssh') return undefined
  if (isImagespecError(err)) return err
  const e = err as Ssh2Error | undefined
  if (!(e instanceof Error)) return undefined
  const at = target.host.includes(':')
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`
  const user = sshUser(target) ?? '(unknown)'
  const fail = (message: string, hint: string) =>
    new ImagespecError('E_ENGINE_UNAVAILABLE', message, { cause: err, hint, field: 'DOCKER_HOST' })
  if (e.level === undefined) {
    // ssh2 puts a level on every error of its own: a hang-up without one comes from the HTTP exchange over the
    // channel, i.e. after the login, when the remote command ended without answering
    if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') return undefined
    return fail(
      `Cannot reach the Docker engine at "${target.address}": ` +
        'docker system dial-stdio on the host ended without an answer',
      `The SSH login as "${user}" worked: check that the docker CLI is installed on ${target.host} (on the PATH of ` +
        `non-interactive logins), and that "${user}" may use its engine there (e.g. is in the "docker" group)`,
    )
  }
  switch (e.level) {
    case 'client-authentication':
      return fail(
        `The SSH server at ${at} refused the login as "${user}"`,
        'imagespec signs in with the keys of the ssh-agent at SSH_AUTH_SOCK only: load the key with ssh-add, and ' +
          `check that the user exists and lists the key in its ~/.ssh/authorized_keys on ${target.host}`,
      )
    case 'agent':
      return fail(
        `Cannot use the ssh-agent to sign in to ${at}: ${e.message}`,
        'Start ssh-agent, add the key with ssh-add, and point SSH_AUTH_SOCK at its socket',
      )
    case 'client-timeout':
      return fail(
        `Timed out connecting to the SSH server at ${at} (no login within ${READY_TIMEOUT_MS / 1000} s)`,
        'Check the host and port in DOCKER_HOST, and that sshd answers there',
      )
    case 'client-socket':
    case 'client-dns':
      return fail(
        `Cannot connect to the SSH server at ${at}${e.code ? ` (${e.code})` : `: ${e.message}`}`,
        'Check the host and port in DOCKER_HOST, and that sshd listens there',
      )
    default:
      return fail(
        `The SSH connection to ${at} failed: ${e.message}`,
        'Check that sshd runs on the host in DOCKER_HOST',
      )
  }
}
