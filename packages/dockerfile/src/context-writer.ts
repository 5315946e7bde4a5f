// Writes a build context's files to a directory, in plan order, on one worker thread.
//
// Why a thread of its own (bench/context.mjs, 19k files): each copy on libuv's pool is a hand-over to one of its
// four threads and back, and four threads creating files in the same folder contend for it in the kernel. The pool
// took 1.3 s of CPU for what one thread doing the same system calls one after another does in 0.85 s (tar -x: 0.65 s),
// and on two cores it left none for the tag's hashing, which runs beside the copy in `render --out`. Two writer
// threads were slower than one (file creation on one file system does not scale here).
import { Worker } from 'node:worker_threads'
import type { ContextFile } from '@imagespec/spec'
import { unreadable } from './_errors.js'

/** A file as the writer thread receives it. */
interface WireFile {
  path: string
  source?: string
  content?: string
  mode?: number
  directory?: boolean
}

/** What the writer thread reports: the first failure (then it writes nothing more), or the end. */
type Report =
  { failed: { index: number; copying: boolean; code?: string; message: string } } | { done: number }

// The writer thread (CommonJS, evaluated as is). Every file is new: O_EXCL, so nothing is written through a link found
// at the destination; a path placed twice (a copy entry inside another) is replaced, as shutil.copy replaces it. A
// copied file takes the source's mode (as shutil.copy does), or `mode` when given.
const WRITER = `
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const path = require('node:path')
const root = workerData.dir
const made = new Set()
const EXCL = fs.constants.COPYFILE_EXCL
let index = 0
let failed = false
const dir = (d) => {
  if (!made.has(d)) {
    fs.mkdirSync(d, { recursive: true })
    made.add(d)
  }
}
const replacing = (write, dest) => {
  try {
    write()
  } catch (e) {
    if (e.code !== 'EEXIST') throw e
    fs.unlinkSync(dest)
    write()
  }
}
parentPort.on('message', (m) => {
  if (m.end) {
    parentPort.postMessage({ done: index }) // the parent then stops this thread
    return
  }
  for (const f of m.files) {
    if (failed) return
    let copying = false
    try {
      const dest = path.join(root, f.path)
      if (f.directory) dir(dest)
      else {
        dir(path.dirname(dest))
        if (f.source === undefined) {
          const mode = f.mode === undefined ? 0o644 : f.mode
          replacing(() => fs.writeFileSync(dest, f.content === undefined ? '' : f.content, { mode, flag: 'wx' }), dest)
        } else {
          copying = true
          replacing(() => fs.copyFileSync(f.source, dest, EXCL), dest)
          copying = false
          if (f.mode !== undefined) fs.chmodSync(dest, f.mode)
        }
      }
    } catch (e) {
      failed = true
      parentPort.postMessage({ failed: { index, copying, code: e.code, message: String(e.message) } })
      return
    }
    index++
  }
})
`

/** Files handed to the writer thread at once. */
const BATCH = 256

/** Writes the files of one build context, in the order they are placed. */
export interface ContextWriter {
  /** Queues a file; throws the writer's error once one is known (the files queued before it are still written). */
  place(file: ContextFile): void
  /**
   * Waits until every queued file is written, then stops the thread; throws the first error (a source that cannot be
   * read is `E_CONTEXT` naming it). Call it once, also after an error.
   */
  close(): Promise<void>
}

/**
 * Opens a writer of the build context under `dir` (which must exist): files are written in the order placed (parents
 * made as needed; the files placed before an error stay written, as in flytekit's create_docker_context), on one
 * worker thread, while this thread goes on (planning the context, hashing the tag).
 */
export function openContextWriter(dir: string): ContextWriter {
  const worker = new Worker(WRITER, { eval: true, workerData: { dir }, stdout: true, stderr: true })
  const files: ContextFile[] = []
  let batch: WireFile[] = []
  let failure: Error | undefined
  const ended = new Promise<void>((resolve, reject) => {
    worker.on('message', (report: Report) => {
      if ('done' in report) resolve()
      else {
        const file = files[report.failed.index]
        const cause = Object.assign(new Error(report.failed.message), { code: report.failed.code })
        failure = report.failed.copying ? unreadable(file, cause) : cause
      }
    })
    worker.once('error', reject)
    worker.once('exit', () => reject(new Error('the context writer thread stopped early')))
  })
  ended.catch(() => undefined) // observed in close()
  const flush = () => {
    if (batch.length === 0) return
    worker.postMessage({ files: batch })
    batch = []
  }
  return {
    place(file) {
      if (failure) throw failure
      files.push(file)
      batch.push({
        path: file.path,
        source: file.source,
        content: file.content,
        mode: file.mode,
        directory: file.directory,
      })
      if (batch.length >= BATCH) flush()
    },
    async close() {
      try {
        flush()
        worker.postMessage({ end: true })
        await ended
      } finally {
        await worker.terminate()
      }
      if (failure) throw failure
    },
  }
}
