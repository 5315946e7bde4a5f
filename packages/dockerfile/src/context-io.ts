import { createReadStream, readFileSync, statSync } from 'node:fs'
import { chmod, copyFile, mkdir, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import tar from 'tar-stream'
import { ImagespecError, type BuildContextPlan, type ContextFile } from '@imagespec/spec'

/** Files up to this size are read whole; larger ones are streamed into the tar. */
const SMALL_FILE = 256 * 1024
/** Fixed mtime for reproducible tars. */
const MTIME = new Date(0)
/** Entries queued in the tar stream at most (each at most SMALL_FILE bytes). */
const WINDOW = 32

const missing = (file: ContextFile, cause: unknown) =>
  new ImagespecError('E_CONTEXT', file.missingMessage ?? `Source "${file.source}" of context file "${file.path}" does not exist`, {
    cause,
    field: file.path,
  })

async function sourceStat(file: ContextFile) {
  return stat(file.source!).catch((cause: unknown) => {
    throw missing(file, cause)
  })
}

function sourceStatSync(file: ContextFile) {
  try {
    return statSync(file.source!)
  } catch (cause) {
    throw missing(file, cause)
  }
}

/** Places one context file under `dir` (parents created; a source keeps its mode bits, like `shutil.copy`). */
export async function writeContextFile(file: ContextFile, dir: string): Promise<void> {
  const dest = join(dir, file.path)
  if (file.directory) {
    await mkdir(dest, { recursive: true })
    return
  }
  await mkdir(dirname(dest), { recursive: true })
  if (file.source === undefined) {
    await writeFile(dest, file.content ?? '', { mode: file.mode ?? 0o644 })
    return
  }
  const st = await sourceStat(file)
  await copyFile(file.source, dest)
  await chmod(dest, file.mode ?? st.mode & 0o7777)
}

/** Writes the whole context to `dir`: the files in plan order, then the `Dockerfile`. */
export async function writeContext(plan: BuildContextPlan, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const file of plan.files) await writeContextFile(file, dir)
  await writeFile(join(dir, 'Dockerfile'), plan.dockerfile)
}

/**
 * The context as a tar stream read straight from the sources (no temporary copy): the `Dockerfile`, then the files
 * in plan order, with their mode bits, uid/gid 0 and a fixed mtime. One file is in flight at a time and the tar
 * stream's backpressure is honoured, so memory stays bounded for any number of files.
 */
export function packContext(plan: BuildContextPlan): Readable {
  const pack = tar.pack()
  type Entry = { name: string; type: 'file' | 'directory'; mode: number }
  const put = (header: Entry, body?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      const h = { ...header, size: body?.length ?? 0, uid: 0, gid: 0, mtime: MTIME } as tar.Header
      if (body) pack.entry(h, body, cb)
      else pack.entry(h, cb)
    })
  // Up to WINDOW entries are queued in the pack at once: bounded memory, without a round trip per small file.
  const queue: Promise<void>[] = []
  const enqueue = async (entry: Promise<void>) => {
    entry.catch(() => undefined)
    queue.push(entry)
    if (queue.length >= WINDOW) await queue.shift()
  }
  const run = async () => {
    await enqueue(put({ name: 'Dockerfile', type: 'file', mode: 0o644 }, Buffer.from(plan.dockerfile)))
    for (const file of plan.files) {
      if (file.directory) await enqueue(put({ name: `${file.path}/`, type: 'directory', mode: file.mode ?? 0o755 }))
      else if (file.source === undefined)
        await enqueue(put({ name: file.path, type: 'file', mode: file.mode ?? 0o644 }, Buffer.from(file.content ?? '')))
      else {
        const st = sourceStatSync(file)
        const mode = file.mode ?? st.mode & 0o7777
        // Small files are read synchronously: a thread-pool round trip per call dominates for many small files.
        if (st.size <= SMALL_FILE) await enqueue(put({ name: file.path, type: 'file', mode }, readFileSync(file.source)))
        else {
          await Promise.all(queue.splice(0))
          await new Promise<void>((resolve, reject) => {
            const sink = pack.entry({ name: file.path, type: 'file', mode, size: st.size, uid: 0, gid: 0, mtime: MTIME } as tar.Header, (err) =>
              err ? reject(err) : resolve(),
            )
            pipeline(createReadStream(file.source!, { end: st.size - 1 }), sink).catch(reject)
          })
        }
      }
    }
    await Promise.all(queue.splice(0))
    pack.finalize()
  }
  run().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))))
  const out = new PassThrough()
  pack.on('error', (err: Error) => out.destroy(err))
  return pack.pipe(out)
}
