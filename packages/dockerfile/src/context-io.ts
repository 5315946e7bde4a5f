import { closeSync, fstatSync, openSync, read, readSync, type Stats } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { ImagespecError, type BuildContextPlan, type ContextFile } from '@imagespec/spec'
import { unreadable } from './_errors.js'
import { openContextWriter } from './context-writer.js'
import { BLOCK, blocks, writeHeader, type TarEntry } from './_tar.js'

/** Files up to this size are read synchronously, larger ones on the thread pool (a round trip per chunk). */
const SMALL_FILE = 256 * 1024
/** Bytes per chunk of the tar stream (a whole number of tar blocks). */
const BATCH = 256 * 1024

/**
 * Writes the whole context to `dir`: the files in plan order (on one worker thread, see `openContextWriter`), then
 * the `Dockerfile`.
 */
export async function writeContext(plan: BuildContextPlan, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  const writer = openContextWriter(dir)
  try {
    for (const file of plan.files) writer.place(file)
  } finally {
    await writer.close()
  }
  await writeFile(join(dir, 'Dockerfile'), plan.dockerfile)
}

type Body = { data: Buffer } | { fd: number; file: ContextFile }
const NO_DATA: Body = { data: Buffer.alloc(0) }

/** The entries of the context in order; a source file is open (and its size known) while its entry is current. */
function* entries(plan: BuildContextPlan): Generator<[TarEntry, Body]> {
  const dockerfile = Buffer.from(plan.dockerfile)
  yield [
    { name: 'Dockerfile', type: 'file', mode: 0o644, size: dockerfile.length },
    { data: dockerfile },
  ]
  for (const file of plan.files) {
    if (file.directory)
      yield [
        { name: `${file.path}/`, type: 'directory', mode: file.mode ?? 0o755, size: 0 },
        NO_DATA,
      ]
    else if (file.source === undefined) {
      const data = Buffer.from(file.content ?? '')
      yield [
        { name: file.path, type: 'file', mode: file.mode ?? 0o644, size: data.length },
        { data },
      ]
    } else {
      let fd: number
      let st: Stats
      try {
        fd = openSync(file.source, 'r')
        st = fstatSync(fd)
      } catch (cause) {
        throw unreadable(file, cause)
      }
      try {
        if (!st.isFile())
          throw new ImagespecError(
            'E_CONTEXT',
            `Source "${file.source}" of context file "${file.path}" is not a regular file`,
            { field: file.path },
          )
        yield [
          { name: file.path, type: 'file', mode: file.mode ?? st.mode & 0o7777, size: st.size },
          { fd, file },
        ]
      } finally {
        closeSync(fd)
      }
    }
  }
}

/** Checks that a read of a source got bytes: a source that ends early has shrunk since its size was taken. */
function checkRead(n: number, file: ContextFile): number {
  if (n === 0)
    throw new ImagespecError(
      'E_CONTEXT',
      `Source "${file.source}" of context file "${file.path}" shrank while being read`,
      { field: file.path },
    )
  return n
}

/** Copies `n` bytes of `body` from `at` into `buf[pos]`, returning the count. */
function readBody(body: Body, buf: Buffer, pos: number, n: number, at: number): number {
  if ('data' in body) return body.data.copy(buf, pos, at, at + n)
  try {
    return checkRead(readSync(body.fd, buf, pos, n, at), body.file)
  } catch (cause) {
    throw unreadable(body.file, cause)
  }
}

/** `readBody` for large files: the read runs on the thread pool, without blocking the event loop. */
async function readBodyAsync(
  body: Body,
  buf: Buffer,
  pos: number,
  n: number,
  at: number,
): Promise<number> {
  if ('data' in body) return readBody(body, buf, pos, n, at)
  const { fd, file } = body
  const count = await new Promise<number>((resolve, reject) =>
    read(fd, buf, pos, n, at, (err, count) =>
      err ? reject(unreadable(file, err)) : resolve(count),
    ),
  )
  return checkRead(count, file)
}

/** The tar as chunks of at most BATCH bytes, each a fresh zero-filled buffer that entries are written straight into. */
async function* tarBatches(plan: BuildContextPlan): AsyncGenerator<Buffer> {
  let buf = Buffer.alloc(BATCH)
  let pos = 0
  const take = () => {
    const chunk = buf.subarray(0, pos)
    buf = Buffer.alloc(BATCH)
    pos = 0
    return chunk
  }
  for (const [entry, body] of entries(plan)) {
    let start = writeHeader(buf, pos, entry)
    if (start < 0) {
      yield take()
      start = writeHeader(buf, 0, entry)
      if (start < 0)
        throw new ImagespecError(
          'E_CONTEXT',
          'The path of a context file is too long for a tar entry',
          { field: entry.name },
        )
    }
    pos = start
    // Small files are read synchronously: a thread-pool round trip per file would dominate for many small files.
    const sync = entry.size <= SMALL_FILE
    for (let done = 0; done < entry.size;) {
      if (pos === BATCH) yield take()
      const n = Math.min(BATCH - pos, entry.size - done)
      const count = sync
        ? readBody(body, buf, pos, n, done)
        : await readBodyAsync(body, buf, pos, n, done)
      pos += count
      done += count
    }
    pos = blocks(pos) // zero padding: the batch is zero-filled and BATCH is a whole number of blocks
  }
  if (pos + 2 * BLOCK > BATCH) yield take()
  yield buf.subarray(0, pos + 2 * BLOCK) // the end-of-archive marker: two zero blocks
}

/**
 * The context as a tar stream read straight from the sources (no temporary copy): the `Dockerfile`, then the files
 * in plan order, with their mode bits, uid/gid 0 and a fixed mtime. Entries are written into chunks of 256 KiB
 * and the next chunk is made only when the consumer reads, so memory stays bounded for any number or size of files.
 * Names over 100 bytes use the ustar prefix or a PAX `path` record. A source that is missing, unreadable or shrinks
 * while read destroys the stream with an `E_CONTEXT` error naming it.
 */
export function packContext(plan: BuildContextPlan): Readable {
  return Readable.from(tarBatches(plan), { objectMode: false })
}
