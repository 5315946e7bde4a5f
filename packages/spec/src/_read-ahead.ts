// Reads files on a worker thread while the caller hashes them in order, so reading and md5 overlap on two cores.
// The reader fills the slots of a shared ring buffer (SLOTS x SLOT_SIZE bytes, allocated once) and waits while
// every slot still waits to be hashed, so memory stays bounded whatever the file sizes.
import type { Digest as Hash } from './_crypto.js'
import { Worker } from 'node:worker_threads'
import { ImagespecError } from './errors.js'

const SLOTS = 8
const SLOT_SIZE = 1 << 20

// CommonJS source of the reader: an eval worker needs no separate file in the published bundle.
// state[0] = slots filled, state[1] = slots hashed. Message: { slot, entries: [fileIndex, start, length, eof, error?][] }.
const READER = `
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const { root, files, ring, shared, SLOTS, SLOT_SIZE } = workerData
const state = new Int32Array(shared)
let filled = 0, used = 0, entries = [], buf = Buffer.from(ring, 0, SLOT_SIZE)
function flush() {
  if (entries.length === 0) return
  parentPort.postMessage({ slot: filled % SLOTS, entries })
  Atomics.store(state, 0, ++filled)
  for (let hashed; filled - (hashed = Atomics.load(state, 1)) >= SLOTS; ) Atomics.wait(state, 1, hashed, 1000)
  buf = Buffer.from(ring, (filled % SLOTS) * SLOT_SIZE, SLOT_SIZE); used = 0; entries = []
}
function main() {
  for (let i = 0; i < files.length; i++) {
    let fd
    try { fd = fs.openSync(root + '/' + files[i], 'r') } catch (e) { entries.push([i, 0, 0, true, String(e.message)]); return }
    try {
      for (;;) {
        if (used === SLOT_SIZE) flush()
        const n = fs.readSync(fd, buf, used, SLOT_SIZE - used, null)
        if (n === 0) break
        entries.push([i, used, n, false])
        used += n
      }
    } finally { fs.closeSync(fd) }
    entries.push([i, 0, 0, true])
  }
}
main()
flush()
`

/** Feeds `hash`, for each file in order, its bytes and then `pathChunk(file)`. Files are relative to `root`. */
export function hashFilesReadAhead(
  root: string,
  files: readonly string[],
  hash: Hash,
  pathChunk: (file: string) => string,
): Promise<void> {
  const ring = new SharedArrayBuffer(SLOTS * SLOT_SIZE)
  const shared = new SharedArrayBuffer(8)
  const state = new Int32Array(shared)
  const worker = new Worker(READER, {
    eval: true,
    workerData: { root, files, ring, shared, SLOTS, SLOT_SIZE },
  })
  return new Promise((resolve, reject) => {
    let done = 0
    let failed = false
    const fail = (err: unknown) => {
      failed = true
      void worker.terminate()
      reject(err)
    }
    worker.on(
      'message',
      (msg: { slot: number; entries: [number, number, number, boolean, string?][] }) => {
        const bytes = new Uint8Array(ring, msg.slot * SLOT_SIZE, SLOT_SIZE)
        for (const [i, start, length, end, error] of msg.entries) {
          if (error !== undefined)
            return fail(
              new ImagespecError('E_CONTEXT', `Cannot read "${root}/${files[i]}": ${error}`),
            )
          if (length > 0) hash.update(bytes.subarray(start, start + length))
          if (end) {
            hash.update(pathChunk(files[i]), 'utf8')
            done++
          }
        }
        Atomics.add(state, 1, 1)
        Atomics.notify(state, 1)
      },
    )
    worker.on('error', (err) =>
      fail(new ImagespecError('E_INTERNAL', 'The file reader failed', { cause: err })),
    )
    worker.on('exit', () => {
      if (failed) return
      if (done === files.length) resolve()
      else fail(new ImagespecError('E_INTERNAL', 'The file reader stopped early'))
    })
  })
}
