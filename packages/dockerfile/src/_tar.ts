// A lean tar header writer: POSIX ustar headers with uid/gid 0, empty owner names and mtime 0, and a PAX `path` record
// for names that are not ASCII or do not fit the ustar name/prefix fields.

export const BLOCK = 512
/** The largest size an 11-digit octal field holds (8 GiB - 1); larger sizes use GNU's base-256 encoding. */
const MAX_OCTAL = 0o77777777777

export interface TarEntry {
  name: string
  type: 'file' | 'directory'
  mode: number
  size: number
}

/** Bytes rounded up to whole blocks. */
export const blocks = (n: number): number => Math.ceil(n / BLOCK) * BLOCK

/** The constant part of every header: ids, mtime, magic, version, device numbers, checksum placeholder. */
const TEMPLATE = Buffer.alloc(BLOCK)
for (const at of [108, 116, 329, 337]) TEMPLATE.write('0000000', at, 'latin1') // uid, gid, devmajor, devminor
TEMPLATE.write('00000000000', 136, 'latin1') // mtime
TEMPLATE.write('        ', 148, 'latin1') // checksum, counted as spaces
TEMPLATE.write('ustar\u000000', 257, 'latin1')
const TEMPLATE_SUM = TEMPLATE.reduce((sum, byte) => sum + byte, 0)

const byteSum = (buf: Buffer, from: number, to: number) => {
  let sum = 0
  for (let i = from; i < to; i++) sum += buf[i]!
  return sum
}

/** Writes `value` as `width` octal digits at `buf[at]`. */
function octal(buf: Buffer, at: number, width: number, value: number) {
  for (let i = at + width - 1; i >= at; i--, value = Math.floor(value / 8))
    buf[i] = 0x30 + (value % 8)
}

/** `[prefix, name]` fitting the ustar fields, or undefined when the name needs a PAX record. */
function ustarName(name: string): [string, string] | undefined {
  if (Buffer.byteLength(name) !== name.length) return undefined // not ASCII
  if (name.length <= 100) return ['', name]
  const cut = name.indexOf('/', name.length - 101) // the shortest prefix that leaves at most 100 bytes
  return cut > 0 && cut <= 155 && cut < name.length - 1
    ? [name.slice(0, cut), name.slice(cut + 1)]
    : undefined
}

/** A PAX record `<length> path=<name>\n`, where the length counts itself. */
function paxPath(name: string): Buffer {
  const base = ' path=\n'.length + Buffer.byteLength(name)
  let len = base + 1
  while (len !== base + String(len).length) len = base + String(len).length
  return Buffer.from(`${len} path=${name}\n`)
}

function writeBlock(
  buf: Buffer,
  at: number,
  name: string,
  prefix: string,
  type: string,
  mode: number,
  size: number,
) {
  TEMPLATE.copy(buf, at)
  const nameEnd = at + buf.write(name, at, 100) // a PAX fallback name is cut at a character boundary
  octal(buf, at + 100, 7, mode & 0o7777)
  if (size <= MAX_OCTAL) octal(buf, at + 124, 11, size)
  else {
    buf[at + 124] = 0x80 // base-256, big-endian
    for (let i = at + 135, n = size; i > at + 124; i--, n = Math.floor(n / 256)) buf[i] = n % 256
  }
  buf[at + 156] = type.charCodeAt(0)
  const prefixEnd = at + 345 + buf.write(prefix, at + 345, 155, 'latin1')
  // The checksum: the template's bytes plus the fields set above.
  const fields =
    byteSum(buf, at, nameEnd) + byteSum(buf, at + 100, at + 107) + byteSum(buf, at + 124, at + 136)
  octal(
    buf,
    at + 148,
    6,
    TEMPLATE_SUM + fields + buf[at + 156]! + byteSum(buf, at + 345, prefixEnd),
  )
  buf[at + 154] = 0
}

/**
 * Writes the headers of `entry` at `buf[at]` (every byte of them set) and returns where its data starts, or -1 when
 * they do not fit in `buf`.
 */
export function writeHeader(buf: Buffer, at: number, entry: TarEntry): number {
  const type = entry.type === 'directory' ? '5' : '0'
  const split = ustarName(entry.name)
  if (split) {
    if (at + BLOCK > buf.length) return -1
    writeBlock(buf, at, split[1], split[0], type, entry.mode, entry.size)
    return at + BLOCK
  }
  const pax = paxPath(entry.name)
  const next = at + BLOCK + blocks(pax.length)
  if (next + BLOCK > buf.length) return -1
  writeBlock(buf, at, 'PaxHeader', '', 'x', 0o644, pax.length)
  buf.fill(0, at + BLOCK, next)
  pax.copy(buf, at + BLOCK)
  writeBlock(buf, next, entry.name, '', type, entry.mode, entry.size)
  return next + BLOCK
}
