// The build context served to BuildKit over the session: fsutil's DiffCopy protocol (moby.filesync.v1.FileSync).
// The sender lists every entry as a STAT packet in walk order (a directory before its children, names in byte
// order) and ends the list with an empty STAT; the receiver asks for file contents by index (REQ) and gets DATA
// packets, an empty one ending each file; FIN from the receiver is answered with FIN.
// https://github.com/tonistiigi/fsutil/blob/master/send.go
import type { Readable } from 'node:stream'
import * as grpc from '@grpc/grpc-js'
import { extract } from 'tar-stream'
import {
  decodePacket,
  encodePacket,
  GO_MODE,
  PACKET,
  type Packet,
  type Stat,
} from '../buildkit/_wire.js'

interface Entry {
  stat: Stat
  data?: Buffer
}

/** A build context held in memory, read from a tar stream. */
export class ContextTree {
  private constructor(private readonly entries: Map<string, Entry>) {}

  /** Reads a tar stream into memory; directories that the tar implies but does not list are added. */
  static async fromTar(tar: Readable): Promise<ContextTree> {
    const entries = new Map<string, Entry>()
    const ex = extract()
    await new Promise<void>((resolve, reject) => {
      ex.on('entry', (header, stream, next) => {
        const path = cleanPath(header.name)
        const chunks: Buffer[] = []
        stream.on('data', (c: unknown) => void chunks.push(c as Buffer))
        stream.on('error', reject)
        stream.on('end', () => {
          if (path !== '') {
            const mode = (header.mode ?? 0o644) & 0o7777
            const modTime = BigInt((header.mtime ?? new Date(0)).getTime()) * 1_000_000n
            const base = {
              path,
              uid: header.uid ?? 0,
              gid: header.gid ?? 0,
              modTime: Number(modTime),
            }
            if (header.type === 'directory') {
              entries.set(path, { stat: { ...base, mode: (GO_MODE.DIR | mode) >>> 0, size: 0 } })
            } else if (header.type === 'symlink') {
              const linkname = header.linkname ?? ''
              entries.set(path, {
                stat: { ...base, mode: (GO_MODE.SYMLINK | 0o777) >>> 0, size: 0, linkname },
              })
            } else if (header.type === 'file' || header.type === 'contiguous-file') {
              const data = Buffer.concat(chunks)
              entries.set(path, { stat: { ...base, mode, size: data.length }, data })
            }
          }
          next()
        })
      })
      ex.on('finish', resolve)
      ex.on('error', reject)
      tar.on('error', reject)
      tar.pipe(ex)
    })
    for (const path of [...entries.keys()]) {
      for (let dir = parentOf(path); dir !== ''; dir = parentOf(dir)) {
        if (!entries.has(dir))
          entries.set(dir, {
            stat: {
              path: dir,
              mode: (GO_MODE.DIR | 0o755) >>> 0,
              uid: 0,
              gid: 0,
              size: 0,
              modTime: 0,
            },
          })
      }
    }
    return new ContextTree(entries)
  }

  /** The entries a receiver asked for, in fsutil's walk order. */
  select(filter: TransferFilter): Entry[] {
    const follow = filter.followPaths.map(cleanPath)
    const include = filter.includePatterns.map(compilePattern)
    const exclude = filter.excludePatterns.map(compilePattern)
    const wanted = (path: string) => {
      if (follow.length && !follow.some((f) => path === f || path.startsWith(`${f}/`))) return false
      if (include.length && !include.some((p) => matchesSelfOrParent(p, path))) return false
      return !excluded(exclude, path)
    }
    const keep = new Set<string>()
    for (const path of this.entries.keys()) {
      if (!wanted(path)) continue
      keep.add(path)
      for (let dir = parentOf(path); dir !== ''; dir = parentOf(dir)) keep.add(dir) // parents come first
    }
    return [...keep].sort(walkOrder).map((p) => this.entries.get(p)!)
  }
}

export interface TransferFilter {
  followPaths: string[]
  includePatterns: string[]
  excludePatterns: string[]
}

/** Compares two paths as Go's filepath.Walk visits them: component by component, bytes order. */
function walkOrder(a: string, b: string): number {
  const pa = a.split('/')
  const pb = b.split('/')
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i]!), Buffer.from(pb[i]!))
    if (c !== 0) return c
  }
  return pa.length - pb.length
}

function cleanPath(name: string): string {
  const parts: string[] = []
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') parts.pop()
    else parts.push(part)
  }
  return parts.join('/')
}

const parentOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')))

interface Pattern {
  negate: boolean
  re: RegExp
  depth: number
}

/** A `.dockerignore` pattern as BuildKit matches it: Go's filepath.Match plus `**`, case-sensitive. */
function compilePattern(raw: string): Pattern {
  let text = raw.trim()
  const negate = text.startsWith('!')
  if (negate) text = text.slice(1).trim()
  text = cleanPath(text)
  let re = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '*') {
      if (text[i + 1] === '*') {
        i++
        if (text[i + 1] === '/') i++
        re += '(?:.*)'
      } else re += '[^/]*'
    } else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const end = text.indexOf(']', i + 1)
      if (end < 0) re += '\\['
      else {
        re += `[${text
          .slice(i + 1, end)
          .replace(/^\^/, '^')
          .replace(/\\/g, '\\\\')}]`
        i = end
      }
    } else if (c === '\\' && i + 1 < text.length) re += `\\${text[++i]}`
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return { negate, re: new RegExp(`^${re}$`), depth: text.split('/').length }
}

function matchesSelfOrParent(p: Pattern, path: string): boolean {
  if (p.re.test(path)) return true
  const parts = path.split('/')
  for (let n = 1; n < parts.length; n++) if (p.re.test(parts.slice(0, n).join('/'))) return true
  return false
}

/** Last matching pattern wins; a `!` pattern re-includes. */
function excluded(patterns: Pattern[], path: string): boolean {
  let out = false
  for (const p of patterns) if (matchesSelfOrParent(p, path)) out = !p.negate
  return out
}

const CHUNK = 32 * 1024

export const fileSyncService = {
  DiffCopy: {
    path: '/moby.filesync.v1.FileSync/DiffCopy',
    requestStream: true as const,
    responseStream: true as const,
    requestSerialize: encodePacket,
    requestDeserialize: (b: Buffer) => decodePacket(b),
    responseSerialize: encodePacket,
    responseDeserialize: (b: Buffer) => decodePacket(b),
  },
}

/** The DiffCopy handler serving `dirs` (by the receiver's `dir-name`: `context`, `dockerfile`). */
export function diffCopyHandler(dirs: ReadonlyMap<string, ContextTree>) {
  return (call: grpc.ServerDuplexStream<Packet, Packet>) => {
    // node:http2 joins repeated header fields with ", " (a path holding ", " cannot be told apart)
    const meta = (key: string) =>
      call.metadata
        .get(key)
        .flatMap((v) => String(v).split(', '))
        .filter((v) => v !== '')
    const name = meta('dir-name')[0] ?? ''
    const tree = dirs.get(name)
    if (!tree) {
      call.emit('error', {
        code: grpc.status.NOT_FOUND,
        details: `no access allowed to dir "${name}"`,
      })
      return
    }
    const entries = tree.select({
      followPaths: meta('followpaths'),
      includePatterns: meta('include-patterns'),
      excludePatterns: meta('override-excludes')[0] === 'true' ? [] : meta('exclude-patterns'),
    })
    const files = new Map<number, Entry>()
    let queue = Promise.resolve()
    const send = (p: Packet) =>
      new Promise<void>((resolve) => {
        if (call.write(p)) resolve()
        else call.once('drain', () => resolve())
      })
    const sendFile = async (id: number) => {
      const entry = files.get(id)
      if (!entry) throw new Error(`invalid file id ${id}`)
      files.delete(id)
      const data = entry.data ?? Buffer.alloc(0)
      for (let off = 0; off < data.length; off += CHUNK) {
        await send({ type: PACKET.DATA, ID: id, data: data.subarray(off, off + CHUNK) })
      }
      await send({ type: PACKET.DATA, ID: id })
    }
    const fail = (err: unknown) => {
      call.write({
        type: PACKET.ERR,
        data: Buffer.from(err instanceof Error ? err.message : String(err)),
      })
      call.end()
    }
    queue = (async () => {
      for (const [id, entry] of entries.entries()) {
        if ((entry.stat.mode & GO_MODE.TYPE) === 0) files.set(id, entry)
        await send({ type: PACKET.STAT, stat: entry.stat })
      }
      await send({ type: PACKET.STAT })
    })()
    queue.catch(fail)
    call.on('data', (p: Packet) => {
      if (p.type === PACKET.REQ) {
        queue = queue.then(() => sendFile(p.ID ?? 0))
        queue.catch(fail)
      } else if (p.type === PACKET.FIN) {
        queue = queue.then(async () => {
          await send({ type: PACKET.FIN })
          call.end()
        })
        queue.catch(fail)
      } else if (p.type === PACKET.ERR) {
        call.end()
      }
    })
    call.on('error', () => {})
  }
}
