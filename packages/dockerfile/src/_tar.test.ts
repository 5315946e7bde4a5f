import tar from 'tar-stream'
import { describe, expect, it } from 'vitest'
import { BLOCK, writeHeader, type TarEntry } from './_tar.js'

/** The header tar-stream's extractor decodes from the headers `writeHeader` writes for `entry`. */
function decode(entry: TarEntry): Promise<tar.Header> {
  const buf = Buffer.alloc(4 * BLOCK + 8192)
  expect(writeHeader(buf, 0, entry)).toBeGreaterThan(0)
  return new Promise((resolve, reject) => {
    const extract = tar.extract()
    extract.on('entry', (header) => {
      resolve(header)
      extract.destroy()
    })
    extract.on('error', reject)
    extract.write(buf)
  })
}

describe('writeHeader', () => {
  it('writes a ustar header with uid/gid 0, empty owner names and mtime 0', async () => {
    const h = await decode({ name: 'src/app.py', type: 'file', mode: 0o100755, size: 1234 })
    expect(h).toMatchObject({
      name: 'src/app.py',
      type: 'file',
      mode: 0o755,
      size: 1234,
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
    })
    expect(h.mtime!.getTime()).toBe(0)
  })

  it('keeps sizes up to 8 GiB - 1 in octal and encodes larger ones in base-256', async () => {
    const buf = Buffer.alloc(BLOCK)
    writeHeader(buf, 0, { name: 'big', type: 'file', mode: 0o644, size: 8 * 1024 ** 3 - 1 })
    expect(buf.toString('latin1', 124, 136)).toBe('77777777777\0')
    expect(
      (await decode({ name: 'big', type: 'file', mode: 0o644, size: 8 * 1024 ** 3 - 1 })).size,
    ).toBe(8 * 1024 ** 3 - 1)
    expect(
      (await decode({ name: 'huge', type: 'file', mode: 0o644, size: 20 * 1024 ** 3 + 5 })).size,
    ).toBe(20 * 1024 ** 3 + 5)
  })

  it('splits a long ASCII name into the ustar prefix and name fields', async () => {
    const name = `${'d'.repeat(120)}/${'f'.repeat(90)}`
    const buf = Buffer.alloc(BLOCK)
    expect(writeHeader(buf, 0, { name, type: 'file', mode: 0o644, size: 0 })).toBe(BLOCK)
    expect(buf.toString('latin1', 345, 465)).toBe('d'.repeat(120))
    expect((await decode({ name, type: 'file', mode: 0o644, size: 0 })).name).toBe(name)
  })

  it.each([
    ['a segment over 100 bytes', `src/${'x'.repeat(150)}.py`],
    ['a name over 255 bytes', `${'d'.repeat(60)}/`.repeat(5) + 'f.py'],
    ['a non-ASCII name', 'src/données/ファイル.txt'],
    ['a long non-ASCII name', `src/${'é'.repeat(80)}/${'ü'.repeat(40)}.txt`],
  ])('writes a PAX path record for %s', async (_what, name) => {
    const h = await decode({ name, type: 'file', mode: 0o600, size: 7 })
    expect(h).toMatchObject({ name, type: 'file', mode: 0o600, size: 7 })
  })

  it('refuses headers that do not fit', () => {
    expect(
      writeHeader(Buffer.alloc(BLOCK), 1, { name: 'a', type: 'file', mode: 0o644, size: 0 }),
    ).toBe(-1)
    expect(
      writeHeader(Buffer.alloc(2 * BLOCK), 0, { name: 'é', type: 'file', mode: 0o644, size: 0 }),
    ).toBe(-1)
  })
})
