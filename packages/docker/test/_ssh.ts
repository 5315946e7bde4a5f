// The SSH side of the DOCKER_HOST=ssh:// tests: a throwaway sshd on a loopback port that logs root in with a key held by
// a throwaway ssh-agent and runs `docker system dial-stdio`, which talks to the local engine. `useSshFixture()` sets
// it up for a test file (beforeAll/afterAll); the fixture's values below are set by it, read them inside tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect } from 'vitest'
import { isImagespecError } from '@imagespec/spec'
import { engineRequired, ensureBaseImage, freePort, skipWithoutEngine } from '@imagespec/test-utils'
import { createDockerClient, type DockerDriver } from '../src/index.js'
import { removeLabelled } from './_helpers.js'

const SSHD = '/usr/sbin/sshd'
const TOOLS = ['ssh-keygen', 'ssh-agent', 'ssh-add']

/** Why this machine cannot run the suite (no sshd, no ssh tools, not root), or undefined. */
function sshMissing(): string | undefined {
  try {
    accessSync(SSHD, constants.X_OK)
  } catch {
    return `${SSHD} is missing (apt-get install openssh-server)`
  }
  for (const tool of TOOLS) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' })
    } catch {
      return `${tool} is missing (apt-get install openssh-client)`
    }
  }
  if (process.getuid?.() !== 0) return 'the ssh tests log in as root and need to run as root'
  return undefined
}

/** Like skipWithoutEngine, for the engine and sshd: skip when either is missing, fail instead under CI. */
export async function skipWithoutSsh(): Promise<boolean> {
  if (await skipWithoutEngine()) return true
  const missing = sshMissing()
  if (missing === undefined) return false
  if (engineRequired()) throw new Error(`IMAGESPEC_REQUIRE_ENGINE=1 but ${missing}`)
  return true
}

export const run = (cmd: string, args: string[], env?: NodeJS.ProcessEnv) =>
  execFileSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })

/** `ssh-keygen`: a key pair without a passphrase at `path` (and `path.pub`); returns the public key line. */
function keygen(path: string, type: 'ed25519' | 'rsa' = 'ed25519'): string {
  run('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '2048'] : []),
    '-N',
    '',
    '-C',
    '',
    '-f',
    path,
  ])
  return readFileSync(`${path}.pub`, 'utf8').trim()
}

/** Resolves once `child` printed `marker` on stderr; rejects when it exits first or after `ms`. */
function waitFor(
  child: ChildProcess,
  marker: RegExp,
  log: () => string,
  ms = 10_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${String(marker)}:\n${log()}`)),
      ms,
    )
    const check = () => {
      if (!marker.test(log())) return
      clearTimeout(timer)
      resolve()
    }
    child.stderr?.on('data', check)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before ${String(marker)}:\n${log()}`))
    })
  })
}

interface Sshd {
  port: number
  /** A second port where every login runs a command that fails as a missing docker CLI would. */
  noDockerPort: number
  log: () => string
  stop: () => void
}

/** A throwaway sshd in `dir`: own host keys, authorized_keys in `dir`, root by key only, no PAM. */
async function startSshd(dir: string, hostKeys: string[]): Promise<Sshd> {
  mkdirSync('/run/sshd', { recursive: true }) // the privilege separation directory sshd insists on
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    let noDockerPort = await freePort()
    while (noDockerPort === port) noDockerPort = await freePort()
    const config = join(dir, `sshd_config.${port}`)
    writeFileSync(
      config,
      [
        `Port ${port}`,
        `Port ${noDockerPort}`,
        'ListenAddress 127.0.0.1',
        ...hostKeys.map((k) => `HostKey ${k}`),
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'LogLevel VERBOSE',
        `Match LocalPort ${noDockerPort}`,
        '  ForceCommand echo "sh: 1: docker: not found" >&2; exit 127',
        '',
      ].join('\n'),
    )
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] })
    let output = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    const log = () => output
    try {
      await waitFor(
        child,
        new RegExp(`^(?=[^]*port ${port}\\.)(?=[^]*port ${noDockerPort}\\.)`),
        log,
      )
      return { port, noDockerPort, log, stop: () => void child.kill() }
    } catch (err) {
      child.kill()
      if (attempt === 3) throw err // another process took the port between freePort and sshd's bind
    }
  }
}

interface Agent {
  socket: string
  stop: () => void
}

/** A throwaway ssh-agent listening on a socket in `dir`, holding `keys`. */
async function startAgent(dir: string, name: string, keys: string[]): Promise<Agent> {
  const socket = join(dir, `${name}.sock`)
  const child = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'pipe', 'pipe'] })
  const deadline = Date.now() + 10_000
  while (!existsSync(socket)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`ssh-agent did not create ${socket}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  for (const key of keys) run('ssh-add', ['-q', key], { SSH_AUTH_SOCK: socket })
  return { socket, stop: () => void child.kill() }
}

/** One ImagespecError, quick, with a one-line message (no stack, no ssh2 internals). */
export function expectClear({ err, ms }: { err: unknown; ms: number }): void {
  expect(isImagespecError(err), String(err)).toBe(true)
  expect((err as Error).message).not.toContain('\n')
  expect(ms).toBeLessThan(10_000)
}

// The fixture (set by useSshFixture's beforeAll).
export let dir: string
export let home: string
export let sshd: Sshd
export let agent: Agent
export let strangerAgent: Agent
export let emptyAgent: Agent
export let base: string
export let hostEd25519: string // the public key lines of the server's host keys
export let hostRsa: string
export let otherHostKey: string
export const local = createDockerClient({ host: 'unix:///var/run/docker.sock' })

/** A driver for the throwaway sshd: root, the agent holding the authorized key, HOME whose known_hosts lists it. */
export const client = (
  env: Record<string, string | undefined> = {},
  user = 'root@',
): DockerDriver =>
  createDockerClient({
    env: {
      DOCKER_HOST: `ssh://${user}127.0.0.1:${sshd.port}`,
      SSH_AUTH_SOCK: agent.socket,
      HOME: home,
      ...env,
    },
  })
/** `[127.0.0.1]:port`: how known_hosts names the throwaway sshd. */
export const hostName = () => `[127.0.0.1]:${sshd.port}`
/** A known_hosts file in `dir` holding `lines`; returns its path. */
export const knownHosts = (name: string, lines: string[]) => {
  const file = join(dir, name)
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''))
  return file
}
export const entry = (publicKeyLine: string, hosts = hostName()) => `${hosts} ${publicKeyLine}`
export const logins = () => sshd.log().match(/Accepted publickey for root/g)?.length ?? 0

/** Starts the sshd, the agents and the keys before the file's tests; stops them and removes its images after. */
export function useSshFixture(): void {
  const stoppers: (() => void)[] = []
  beforeAll(async () => {
    base = await ensureBaseImage()
    dir = mkdtempSync(join(tmpdir(), 'imagespec-ssh-'))
    hostEd25519 = keygen(join(dir, 'host_ed25519'))
    hostRsa = keygen(join(dir, 'host_rsa'), 'rsa')
    otherHostKey = keygen(join(dir, 'other_host_ed25519'))
    writeFileSync(join(dir, 'authorized_keys'), `${keygen(join(dir, 'client'))}\n`)
    keygen(join(dir, 'stranger')) // a key the server does not know
    sshd = await startSshd(dir, [join(dir, 'host_ed25519'), join(dir, 'host_rsa')])
    stoppers.push(sshd.stop)
    agent = await startAgent(dir, 'agent', [join(dir, 'client')])
    stoppers.push(agent.stop)
    strangerAgent = await startAgent(dir, 'stranger-agent', [join(dir, 'stranger')])
    stoppers.push(strangerAgent.stop)
    emptyAgent = await startAgent(dir, 'empty-agent', [])
    stoppers.push(emptyAgent.stop)
    home = join(dir, 'home')
    mkdirSync(join(home, '.ssh'), { recursive: true })
    writeFileSync(join(home, '.ssh', 'known_hosts'), `${entry(hostEd25519)}\n`)
  })

  afterAll(async () => {
    for (const stop of stoppers) stop()
    await removeLabelled()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
}
