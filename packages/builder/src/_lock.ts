// The build lock: one file per image name in a per-user directory (mode 0700), so that concurrent builds of one image
// on this machine run one at a time. A lock file holds its owner's pid (and, on Linux, the process start time, so a
// reused pid is not taken for the owner); a lock whose owner is gone is taken over at once. Files are created with
// O_EXCL and opened with O_NOFOLLOW: a symlink planted in the directory is never followed.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
  chmodSync,
  linkSync,
} from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ImagespecError } from '@imagespec/spec'

type Env = Readonly<Record<string, string | undefined>>

/**
 * Directory of the build locks: `$XDG_RUNTIME_DIR/imagespec/locks` (a per-user tmpfs), else
 * `$XDG_CACHE_HOME/imagespec/locks`, else `~/.cache/imagespec/locks`.
 */
export const defaultLockDir = (env: Env = process.env): string =>
  env.XDG_RUNTIME_DIR
    ? join(env.XDG_RUNTIME_DIR, 'imagespec', 'locks')
    : join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'imagespec', 'locks')

const POLL_MS = 200

/** The start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), when the system tells it. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** Whether the process that wrote `owner` (`<pid> <start time>`) is still running. */
function ownerAlive(owner: string): boolean {
  const [pidText, start] = owner.split('\n')[0].trim().split(' ')
  const pid = Number(pidText)
  if (!Number.isInteger(pid) || pid <= 0) return false // a torn or foreign file: nobody holds it
  try {
    process.kill(pid, 0)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  const now = start ? startTime(pid) : undefined
  return !(start && now && now !== start)
}

function readOwner(file: string): string | undefined {
  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (e) {
    // A symlink planted in its place holds nobody's lock (it is moved aside, never followed).
    return (e as NodeJS.ErrnoException).code === 'ELOOP' ? '' : undefined
  }
  try {
    return fstatSync(fd).isFile() ? readFileSync(fd, 'utf8') : ''
  } finally {
    closeSync(fd)
  }
}

/** Makes (or checks) the lock directory: a real directory of this user, mode 0700. */
function lockDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const st = lstatSync(dir)
    if (!st.isDirectory()) throw new Error('it is not a directory')
    if (process.getuid && st.uid !== process.getuid()) throw new Error('it belongs to another user')
    if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700)
  } catch (cause) {
    throw new ImagespecError(
      'E_CONFIG_INVALID',
      `Cannot use the build lock directory "${dir}": ${(cause as Error).message}`,
      { cause },
    )
  }
}

/** Tries to create the lock file; true when this process now holds it. */
function tryCreate(file: string, owner: string): boolean {
  let fd: number
  try {
    fd = openSync(
      file,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    )
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  }
  try {
    writeSync(fd, owner)
  } finally {
    closeSync(fd)
  }
  return true
}

/** Moves a lock whose owner is gone out of the way (atomically: of several waiters, one wins the rename). */
function takeOverStale(file: string): void {
  const owner = readOwner(file)
  if (owner === undefined || ownerAlive(owner)) return
  const aside = `${file}.stale-${process.pid}`
  try {
    renameSync(file, aside)
  } catch {
    return // another waiter moved it first
  }
  // The file moved may be a fresh lock written between the read and the rename: put a live one back.
  const moved = readOwner(aside)
  if (moved !== undefined && moved !== owner && ownerAlive(moved)) {
    try {
      linkSync(aside, file)
    } catch {
      // a newer lock is already in place
    }
  }
  try {
    unlinkSync(aside)
  } catch {
    // already gone
  }
}

/**
 * Runs `fn` holding this user's lock for `imageName`, so that concurrent builds of one image run one at a time.
 * Waits (polling) while a live process holds it; a lock whose holder died is taken over within one poll. The lock
 * file is removed afterwards. `fn` learns whether it had to wait.
 */
export async function withImageLock<T>(
  imageName: string,
  fn: (waited: boolean) => Promise<T>,
  opts: { dir?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const { createHash } = await import('node:crypto') // not at import: a build that finds its image takes no lock
  const dir = opts.dir ?? defaultLockDir()
  lockDirectory(dir)
  const file = join(
    dir,
    `${createHash('sha256').update(imageName).digest('hex').slice(0, 32)}.lock`,
  )
  const start = startTime(process.pid)
  const owner = `${process.pid}${start ? ` ${start}` : ''}\n${imageName.slice(0, 500)}\n`
  let waited = false
  while (!tryCreate(file, owner)) {
    opts.signal?.throwIfAborted()
    waited = true
    takeOverStale(file)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
  try {
    return await fn(waited)
  } finally {
    // Removed only while it is still this holder's file.
    if (readOwner(file) === owner) {
      try {
        unlinkSync(file)
      } catch {
        // already gone
      }
    }
  }
}
