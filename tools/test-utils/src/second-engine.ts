import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'

/** A second dockerd on this machine (a fleet member for tests): its own socket, data, exec root, pid file and bridge. */
export interface SecondEngine {
  /** `unix:///tmp/isd2-…/d.sock` */
  host: string
  dir: string
  logs(): string
  /** SIGTERM, wait for the exit, remove the bridge and the directories. Idempotent. */
  stop(): Promise<void>
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

/**
 * Starts a second dockerd sharing the host's network (so it reaches the loopback registry) with a bridge of its own.
 * Never `--bridge=none`: that deletes the first engine's docker0. The socket path is kept short (unix socket paths
 * are limited to about 100 characters). Needs root.
 */
export async function startSecondEngine(): Promise<SecondEngine> {
  const dir = mkdtempSync('/tmp/isd2-')
  const bridge = `isd${process.pid % 100000}${Math.floor(Math.random() * 100)}`.slice(0, 15)
  execFileSync('ip', ['link', 'add', 'name', bridge, 'type', 'bridge'])
  execFileSync('ip', ['link', 'set', bridge, 'up'])
  const socket = join(dir, 'd.sock')
  const child = spawn(
    'dockerd',
    [
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'pid'),
      '-H',
      `unix://${socket}`,
      `--bridge=${bridge}`,
      '--iptables=false',
      '--ip-masq=false',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  child.stdout!.on('data', (d) => (log += d))
  child.stderr!.on('data', (d) => (log += d))
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))])
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    try {
      execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' })
    } catch {
      // already gone
    }
    try {
      rmSync(dir, { recursive: true, force: true })
    } catch {
      // a mount left behind by a killed daemon: leave the directory under /tmp
    }
  }
  for (let i = 0; i < 150; i++) {
    if (await ping(socket)) return { host: `unix://${socket}`, dir, logs: () => log, stop }
    if (child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 200))
  }
  await stop()
  throw new Error(`the second dockerd did not start:\n${log.split('\n').slice(-30).join('\n')}`)
}
