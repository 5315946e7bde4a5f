import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Directory of the per-machine build locks (one file per image name). */
const defaultLockDir = (): string => join(tmpdir(), 'imagespec-locks')

/**
 * Runs `fn` holding this machine's lock for `imageName`, so that concurrent builds of one image run one at a
 * time. Waits (polling) while another process holds it; a holder that died leaves a stale lock, taken over after
 * `staleMs`. `fn` learns whether it had to wait.
 */
export async function withImageLock<T>(
  imageName: string,
  fn: (waited: boolean) => Promise<T>,
  opts: { dir?: string; signal?: AbortSignal; staleMs?: number } = {},
): Promise<T> {
  // Loaded here, not at import: a build that finds its image never takes a lock.
  const [{ default: lockfile }, { createHash }, { mkdir, writeFile }] = await Promise.all([
    import('proper-lockfile'),
    import('node:crypto'),
    import('node:fs/promises'),
  ])
  const dir = opts.dir ?? defaultLockDir()
  await mkdir(dir, { recursive: true })
  const file = join(dir, `${createHash('sha256').update(imageName).digest('hex').slice(0, 32)}.lock`)
  await writeFile(file, `${imageName}\n`, { flag: 'a' })
  const stale = opts.staleMs ?? 20_000
  let release: (() => Promise<void>) | undefined
  let waited = false
  while (!release) {
    opts.signal?.throwIfAborted()
    try {
      release = await lockfile.lock(file, { stale, update: Math.floor(stale / 4), realpath: false, onCompromised: () => undefined })
    } catch (e) {
      if ((e as { code?: string }).code !== 'ELOCKED') throw e
      waited = true
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  try {
    return await fn(waited)
  } finally {
    await release().catch(() => undefined)
  }
}
