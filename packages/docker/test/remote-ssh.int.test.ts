// DOCKER_HOST=ssh://… against the real engine: a throwaway sshd on a loopback port logs root in with a key held by a
// throwaway ssh-agent and runs `docker system dial-stdio`, which talks to the local engine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isImagespecError, type BuildEvent } from '@imagespec/spec'
import { engineRequired, ensureBaseImage, freePort, skipWithoutEngine } from '@imagespec/test-utils'
import { createDockerClient, type DockerDriver } from '../src/index.js'
import { docker, failure, imageName, LABELS, removeAfterTest, removeLabelled, RUN_ID, tarOf } from './_helpers.js'

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
async function skipWithoutSsh(): Promise<boolean> {
  if (await skipWithoutEngine()) return true
  const missing = sshMissing()
  if (missing === undefined) return false
  if (engineRequired()) throw new Error(`IMAGESPEC_REQUIRE_ENGINE=1 but ${missing}`)
  return true
}

const run = (cmd: string, args: string[], env?: NodeJS.ProcessEnv) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })

/** `ssh-keygen`: a key pair without a passphrase at `path` (and `path.pub`); returns the public key line. */
function keygen(path: string, type: 'ed25519' | 'rsa' = 'ed25519'): string {
  run('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', '', '-f', path])
  return readFileSync(`${path}.pub`, 'utf8').trim()
}

/** Resolves once `child` printed `marker` on stderr; rejects when it exits first or after `ms`. */
function waitFor(child: ChildProcess, marker: RegExp, log: () => string, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(marker)}:\n${log()}`)), ms)
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
      await waitFor(child, new RegExp(`^(?=[^]*port ${port}\\.)(?=[^]*port ${noDockerPort}\\.)`), log)
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
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`ssh-agent did not create ${socket}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  for (const key of keys) run('ssh-add', ['-q', key], { SSH_AUTH_SOCK: socket })
  return { socket, stop: () => void child.kill() }
}

/** One ImagespecError, quick, with a one-line message (no stack, no ssh2 internals). */
function expectClear({ err, ms }: { err: unknown; ms: number }): void {
  expect(isImagespecError(err), String(err)).toBe(true)
  expect((err as Error).message).not.toContain('\n')
  expect(ms).toBeLessThan(10_000)
}

describe.skipIf(await skipWithoutSsh())('DOCKER_HOST=ssh:// (real sshd, real engine)', () => {
  let dir: string
  let home: string
  let sshd: Sshd
  let agent: Agent
  let strangerAgent: Agent
  let emptyAgent: Agent
  let base: string
  let hostEd25519: string // the public key lines of the server's host keys
  let hostRsa: string
  let otherHostKey: string
  const local = createDockerClient({ host: 'unix:///var/run/docker.sock' })
  const stoppers: (() => void)[] = []

  /** A driver for the throwaway sshd: root, the agent holding the authorized key, HOME whose known_hosts lists it. */
  const client = (env: Record<string, string | undefined> = {}, user = 'root@'): DockerDriver =>
    createDockerClient({
      env: {
        DOCKER_HOST: `ssh://${user}127.0.0.1:${sshd.port}`,
        SSH_AUTH_SOCK: agent.socket,
        HOME: home,
        ...env,
      },
    })
  /** `[127.0.0.1]:port`: how known_hosts names the throwaway sshd. */
  const hostName = () => `[127.0.0.1]:${sshd.port}`
  /** A known_hosts file in `dir` holding `lines`; returns its path. */
  const knownHosts = (name: string, lines: string[]) => {
    const file = join(dir, name)
    writeFileSync(file, lines.map((l) => `${l}\n`).join(''))
    return file
  }
  const entry = (publicKeyLine: string, hosts = hostName()) => `${hosts} ${publicKeyLine}`
  const logins = () => sshd.log().match(/Accepted publickey for root/g)?.length ?? 0

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

  describe('engine calls', () => {
    it('pings the engine and inspects an image through the remote docker system dial-stdio', async () => {
      const before = logins()
      const driver = client()
      expect(driver.host).toEqual({
        protocol: 'ssh',
        host: '127.0.0.1',
        port: sshd.port,
        username: 'root',
        address: `ssh://root@127.0.0.1:${sshd.port}`,
      })
      const [remote, direct] = [await driver.ping(), await local.ping()]
      expect(remote).toEqual(direct)
      const info = await driver.inspectImage(base)
      expect(info?.id).toBe((await local.inspectImage(base))?.id)
      expect(await driver.inspectImage(`imagespec-test/absent:${RUN_ID.slice(0, 8)}`)).toBeUndefined()
      expect(logins() - before).toBeGreaterThanOrEqual(3) // each request went through sshd (one connection each)
    })

    it('logs in as the local user when the address names none, as ssh does', async () => {
      const driver = createDockerClient({
        env: { DOCKER_HOST: `ssh://127.0.0.1:${sshd.port}`, SSH_AUTH_SOCK: agent.socket, HOME: home },
      })
      expect((driver.host as { username?: string }).username).toBeUndefined()
      await expect(driver.ping()).resolves.toMatchObject({ version: expect.any(String) })
    })

    it('builds from the base image with a secret mount (BuildKit session upgraded through dial-stdio)', async () => {
      const tag = imageName('ssh-secret')
      removeAfterTest(tag)
      const secret = `imagespec-ssh-secret-${RUN_ID}`
      const sum = createHash('sha256').update(secret).digest('hex')
      const events: BuildEvent[] = []
      const result = await client().build({
        context: tarOf({
          Dockerfile:
            `FROM ${base}\n` +
            // the step fails unless the session served exactly this secret; RUN_ID keeps it out of other runs' cache
            `RUN --mount=type=secret,id=secret_0,target=/run/secrets/x,required=true echo ${RUN_ID} && ` +
            `echo "${sum}  /run/secrets/x" | sha256sum -c - && cat /run/secrets/x && echo used > /used\n`,
        }),
        tags: [tag],
        labels: LABELS,
        secrets: { secret_0: secret },
        nocache: true,
        onEvent: (e) => events.push(e),
      })
      expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect((await local.inspectImage(tag))?.id).toBe(result.imageId) // built by the same engine
      expect(events).toContainEqual(expect.objectContaining({ type: 'log', line: '***' }))
      expect(JSON.stringify(events)).not.toContain(secret)
      expect(JSON.stringify(await docker.getImage(tag).history())).not.toContain(secret)
      expect(JSON.stringify(await docker.getImage(tag).inspect())).not.toContain(secret)
    })
  })

  describe('failures', () => {
    const refused = (user: string) => ({
      code: 'E_ENGINE_UNAVAILABLE',
      message: `The SSH server at 127.0.0.1:${sshd.port} refused the login as "${user}"`,
      hint: expect.stringContaining('ssh-add'),
    })

    it('refuses a user the server does not let in, from ping, inspect and build alike', async () => {
      const driver = client({}, 'imagespec-no-such-user@')
      for (const call of [
        () => driver.ping(),
        () => driver.inspectImage(base),
        () => driver.build({ context: tarOf({ Dockerfile: 'FROM scratch\n' }), labels: LABELS }),
      ]) {
        const outcome = await failure(call)
        expectClear(outcome)
        expect(outcome.err).toMatchObject(refused('imagespec-no-such-user'))
      }
    })

    it('refuses a login when the agent holds no authorized key, or there is no agent', async () => {
      const agents = [strangerAgent.socket, emptyAgent.socket, undefined]
      for (const env of agents.map((socket) => ({ SSH_AUTH_SOCK: socket }))) {
        const outcome = await failure(() => client(env).ping())
        expectClear(outcome)
        expect(outcome.err, JSON.stringify(env)).toMatchObject(refused('root'))
      }
    })

    it('reports an agent socket that does not answer', async () => {
      const outcome = await failure(() => client({ SSH_AUTH_SOCK: join(dir, 'no-agent.sock') }).ping())
      expectClear(outcome)
      expect(outcome.err).toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        message: expect.stringContaining(`Cannot use the ssh-agent to sign in to 127.0.0.1:${sshd.port}: `),
        hint: expect.stringContaining('SSH_AUTH_SOCK'),
      })
    })

    it('reports a host whose docker system dial-stdio does not answer (no docker CLI there)', async () => {
      const address = `ssh://root@127.0.0.1:${sshd.noDockerPort}`
      const known = knownHosts('known_hosts.no-docker', [entry(hostEd25519, `[127.0.0.1]:${sshd.noDockerPort}`)])
      const driver = createDockerClient({
        env: { DOCKER_HOST: address, SSH_AUTH_SOCK: agent.socket, IMAGESPEC_SSH_KNOWN_HOSTS: known },
      })
      for (const call of [() => driver.ping(), () => driver.inspectImage(base)]) {
        const outcome = await failure(call)
        expectClear(outcome)
        expect(outcome.err).toMatchObject({
          code: 'E_ENGINE_UNAVAILABLE',
          message: `Cannot reach the Docker engine at "${address}": docker system dial-stdio on the host ended without an answer`,
          hint: expect.stringContaining('The SSH login as "root" worked: check that the docker CLI is installed'),
        })
      }
    })

    it('reports a port where no sshd listens', async () => {
      const port = await freePort()
      const driver = createDockerClient({
        env: { DOCKER_HOST: `ssh://root@127.0.0.1:${port}`, SSH_AUTH_SOCK: agent.socket, HOME: home },
      })
      for (const call of [() => driver.ping(), () => driver.inspectImage(base)]) {
        const outcome = await failure(call)
        expectClear(outcome)
        expect(outcome.err).toMatchObject({
          code: 'E_ENGINE_UNAVAILABLE',
          message: `Cannot connect to the SSH server at 127.0.0.1:${port} (ECONNREFUSED)`,
          hint: expect.stringContaining('DOCKER_HOST'),
        })
      }
    })
  })

  describe('host key checking (known_hosts)', () => {
    it('accepts the key listed in $HOME/.ssh/known_hosts (plain [host]:port entry)', async () => {
      await expect(client().ping()).resolves.toMatchObject({ version: expect.any(String) })
    })

    it('accepts a hashed entry, and a pattern entry, from IMAGESPEC_SSH_KNOWN_HOSTS', async () => {
      const hashed = knownHosts('known_hosts.hashed', [entry(otherHostKey, 'example.org'), entry(hostEd25519)])
      run('ssh-keygen', ['-q', '-H', '-f', hashed])
      const text = readFileSync(hashed, 'utf8')
      expect(text).not.toContain('127.0.0.1')
      expect(text).toMatch(/^\|1\|/m)
      const onlyHashed = { IMAGESPEC_SSH_KNOWN_HOSTS: hashed, HOME: join(dir, 'nowhere') }
      await expect(client(onlyHashed).ping()).resolves.toBeDefined()
      const pattern = knownHosts('known_hosts.pattern', [entry(hostEd25519, `example.org,[127.0.0.*]:${sshd.port}`)])
      await expect(client({ IMAGESPEC_SSH_KNOWN_HOSTS: pattern }).ping()).resolves.toBeDefined()
    })

    it('asks for a key type known_hosts lists (here RSA only, though the server prefers Ed25519)', async () => {
      const rsaOnly = knownHosts('known_hosts.rsa', [entry(hostRsa)])
      await expect(client({ IMAGESPEC_SSH_KNOWN_HOSTS: rsaOnly }).ping()).resolves.toBeDefined()
    })

    it('refuses an unknown host key, naming host, key and known_hosts file, before logging in', async () => {
      const before = logins()
      const other = knownHosts('known_hosts.other', [
        entry(hostEd25519, '127.0.0.1'), // port 22 entries do not name [127.0.0.1]:port
        entry(hostEd25519, 'example.org'),
      ])
      const fingerprint = run('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'host_ed25519.pub')]).split(' ')[1]
      const missingHome = join(dir, 'empty-home')
      for (const [env, file] of [
        [{ IMAGESPEC_SSH_KNOWN_HOSTS: other }, other],
        [{ HOME: missingHome }, `${join(missingHome, '.ssh', 'known_hosts')} or /etc/ssh/ssh_known_hosts`],
      ] as const) {
        const outcome = await failure(() => client(env).ping())
        expectClear(outcome)
        expect(outcome.err).toMatchObject({
          code: 'E_ENGINE_UNAVAILABLE',
          message: `The SSH host key of ${hostName()} (ssh-ed25519 key ${fingerprint}) is not in ${file}`,
          hint: expect.stringContaining(`ssh -p ${sshd.port} root@127.0.0.1`),
        })
      }
      // the inspect path reports the same error (no generic "cannot inspect")
      await expect(client({ IMAGESPEC_SSH_KNOWN_HOSTS: other }).inspectImage(base)).rejects.toMatchObject({
        message: expect.stringMatching(/^The SSH host key of .* is not in /),
      })
      expect(logins()).toBe(before) // the agent's key was never offered to the unverified server
    })

    it('refuses a changed host key (known_hosts holds another key of that type), naming file and line', async () => {
      const changed = knownHosts('known_hosts.changed', ['# a comment', '', entry(otherHostKey)])
      const outcome = await failure(() => client({ IMAGESPEC_SSH_KNOWN_HOSTS: changed }).ping())
      expectClear(outcome)
      expect(outcome.err).toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        message: expect.stringMatching(/^The SSH host key of \[127\.0\.0\.1\]:\d+ has changed: the server presented /),
        hint: expect.stringContaining('man in the middle'),
      })
      expect((outcome.err as Error).message).toContain(`, ${changed} line 3 holds another one`)
      // the same in $HOME/.ssh/known_hosts, hashed
      const changedHome = join(dir, 'changed-home')
      mkdirSync(join(changedHome, '.ssh'), { recursive: true })
      const file = join(changedHome, '.ssh', 'known_hosts')
      writeFileSync(file, `${entry(otherHostKey)}\n`)
      run('ssh-keygen', ['-q', '-H', '-f', file])
      await expect(client({ HOME: changedHome }).ping()).rejects.toMatchObject({
        message: expect.stringContaining(`has changed: the server presented the ssh-ed25519 key SHA256:`),
      })
    })

    it('refuses a key marked @revoked even when another line lists it', async () => {
      const revoked = knownHosts('known_hosts.revoked', [entry(hostEd25519), `@revoked * ${hostEd25519}`])
      await expect(client({ IMAGESPEC_SSH_KNOWN_HOSTS: revoked }).ping()).rejects.toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        message: expect.stringMatching(/is marked @revoked in .*known_hosts\.revoked line 2$/),
      })
    })
  })
})
