import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  mkdirSync,
  lstatSync,
  readFileSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { buffer, text } from 'node:stream/consumers'
import tar from 'tar-stream'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import type { BuildContextPlan } from '@imagespec/spec'
import { packContext, writeContext } from './context-io.js'

const src = useTempDir('ctxio-')
writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\necho hi\n')
chmodSync(path.join(src, 'run.sh'), 0o750)
writeFileSync(path.join(src, 'big.bin'), Buffer.alloc(700_000, 7))
const plan: BuildContextPlan = {
  dockerfile: 'FROM scratch\n',
  files: [
    { path: 'requirements_uv.txt', content: 'numpy\nflytekit' },
    { path: 'src', directory: true },
    { path: 'src/run.sh', source: path.join(src, 'run.sh') },
    { path: 'data/big.bin', source: path.join(src, 'big.bin') },
  ],
  warnings: [],
  secrets: [],
}

// Names of every kind (ustar prefix split, PAX path records, unicode), an empty file, modes, and a 5 MiB file.
writeFileSync(path.join(src, 'empty'), '')
writeFileSync(
  path.join(src, 'five.bin'),
  Buffer.from(Array.from({ length: 5 * 1024 * 1024 }, (_, i) => (i * 7 + (i >> 11)) % 251)),
)
chmodSync(path.join(src, 'five.bin'), 0o600)
const long = `src/${'deep/'.repeat(30)}module.py`
const tricky: BuildContextPlan = {
  dockerfile: 'FROM scratch\n',
  files: [
    { path: 'src', directory: true, mode: 0o700 },
    { path: 'src/empty.txt', source: path.join(src, 'empty') },
    { path: 'src/données/ファイル.py', content: 'print("héllo")\n' },
    { path: long, content: 'x = 1\n' },
    { path: `src/${'n'.repeat(140)}.py`, source: path.join(src, 'run.sh') },
    { path: `src/${'long-dir-'.repeat(12)}/`.repeat(3).slice(0, -1), directory: true },
    { path: 'data/five.bin', source: path.join(src, 'five.bin') },
    { path: 'run.sh', source: path.join(src, 'run.sh'), mode: 0o755 },
  ],
  warnings: [],
  secrets: [],
}

async function untar(stream: NodeJS.ReadableStream) {
  const entries: { name: string; type: string; mode: number; body: Buffer }[] = []
  const extract = tar.extract()
  extract.on('entry', (header, body, next) => {
    const chunks: Buffer[] = []
    body.on('data', (c) => chunks.push(c as Buffer))
    body.on('end', () => {
      entries.push({
        name: header.name,
        type: header.type!,
        mode: header.mode!,
        body: Buffer.concat(chunks),
      })
      next()
    })
  })
  await new Promise((resolve, reject) => {
    stream.on('error', reject).pipe(extract)
    extract.on('finish', () => resolve(undefined)).on('error', reject)
  })
  return entries
}

describe('packContext', () => {
  it('streams the Dockerfile then the files in plan order, with modes and contents', async () => {
    const entries = await untar(packContext(plan))
    expect(entries.map((e) => [e.name, e.type, e.mode.toString(8)])).toEqual([
      ['Dockerfile', 'file', '644'],
      ['requirements_uv.txt', 'file', '644'],
      ['src/', 'directory', '755'],
      ['src/run.sh', 'file', '750'],
      ['data/big.bin', 'file', '644'],
    ])
    expect(entries[1].body.toString()).toBe('numpy\nflytekit')
    expect(entries[3].body.toString()).toBe('#!/bin/sh\necho hi\n')
    expect(entries[4].body.equals(readFileSync(path.join(src, 'big.bin')))).toBe(true)
  })

  it('is deterministic', async () => {
    const a = Buffer.from(await text(packContext(plan)), 'latin1')
    const b = Buffer.from(await text(packContext(plan)), 'latin1')
    expect(a.equals(b)).toBe(true)
  })

  it('writes long and unicode names, empty files, modes and large files as tar-stream reads them', async () => {
    const entries = await untar(packContext(tricky))
    expect(entries.map((e) => [e.name, e.type, e.mode.toString(8), e.body.length])).toEqual([
      ['Dockerfile', 'file', '644', 13],
      ['src/', 'directory', '700', 0],
      ['src/empty.txt', 'file', '644', 0],
      ['src/données/ファイル.py', 'file', '644', Buffer.byteLength('print("héllo")\n')],
      [long, 'file', '644', 6],
      [tricky.files[4]!.path, 'file', '750', 18],
      [`${tricky.files[5]!.path}/`, 'directory', '755', 0],
      ['data/five.bin', 'file', '600', 5 * 1024 * 1024],
      ['run.sh', 'file', '755', 18],
    ])
    expect(entries[3]!.body.toString()).toBe('print("héllo")\n')
    expect(entries[7]!.body.equals(readFileSync(path.join(src, 'five.bin')))).toBe(true)
  })

  it('writes a tar that GNU tar lists and extracts', async () => {
    const dir = useTempDir('ctxtar-')
    writeFileSync(path.join(dir, 'ctx.tar'), await buffer(packContext(tricky)))
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', 'ctx.tar'], {
      cwd: dir,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
    expect(listing.map((line) => line.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      '-rw-r--r-- 0/0 13',
      'drwx------ 0/0 0',
      '-rw-r--r-- 0/0 0',
      `-rw-r--r-- 0/0 ${Buffer.byteLength('print("héllo")\n')}`,
      '-rw-r--r-- 0/0 6',
      '-rwxr-x--- 0/0 18',
      'drwxr-xr-x 0/0 0',
      '-rw------- 0/0 5242880',
      '-rwxr-xr-x 0/0 18',
    ])
    expect(listing.every((line) => line.includes('1970-01-01'))).toBe(true)
    mkdirSync(path.join(dir, 'x'))
    execFileSync('tar', ['-xf', '../ctx.tar'], { cwd: path.join(dir, 'x') })
    expect(readFileSync(path.join(dir, 'x/src/données/ファイル.py'), 'utf8')).toBe(
      'print("héllo")\n',
    )
    expect(readFileSync(path.join(dir, 'x', long), 'utf8')).toBe('x = 1\n')
    expect(readFileSync(path.join(dir, 'x', tricky.files[4]!.path), 'utf8')).toBe(
      '#!/bin/sh\necho hi\n',
    )
    expect(statSync(path.join(dir, 'x', tricky.files[5]!.path)).isDirectory()).toBe(true)
    expect(
      readFileSync(path.join(dir, 'x/data/five.bin')).equals(
        readFileSync(path.join(src, 'five.bin')),
      ),
    ).toBe(true)
  })

  it('makes chunks of at most 256 KiB, only as they are read', async () => {
    const stream = packContext(tricky)
    await new Promise((resolve) => stream.once('readable', resolve))
    expect(stream.readableLength).toBeLessThanOrEqual(256 * 1024)
    const sizes: number[] = []
    for await (const chunk of stream) sizes.push((chunk as Buffer).length)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256 * 1024)
    expect(sizes.reduce((a, b) => a + b) % 512).toBe(0)
  })

  it("fails the stream when a source is missing, with the file's message", async () => {
    const bad = {
      ...plan,
      files: [
        {
          path: 'pyproject.toml',
          source: path.join(src, 'nope'),
          missingMessage: 'To use uv.lock, ...',
        },
      ],
    }
    await expect(untar(packContext(bad))).rejects.toThrow('To use uv.lock, ...')
    const plain = { ...plan, files: [{ path: 'src/a.py', source: path.join(src, 'nope') }] }
    await expect(untar(packContext(plain))).rejects.toMatchObject({
      code: 'E_CONTEXT',
      field: 'src/a.py',
      message: `Source "${path.join(src, 'nope')}" of context file "src/a.py" does not exist`,
    })
  })

  /** Reads the first chunk of the stream of `files`, runs `change`, then reads the rest: the stream's error. */
  async function failure(files: BuildContextPlan['files'], change: () => void) {
    const stream = packContext({ ...plan, files })
    const chunks = stream[Symbol.asyncIterator]()
    await chunks.next()
    change()
    try {
      while (!(await chunks.next()).done);
    } catch (err) {
      return err
    }
    throw new Error('the stream did not fail')
  }

  it('fails the stream, naming the file, when a source vanishes or shrinks mid-stream', async () => {
    const dir = useTempDir('ctxvanish-')
    for (const f of ['big', 'small'])
      writeFileSync(path.join(dir, f), Buffer.alloc(f === 'big' ? 1024 * 1024 : 10, 1))
    const files = [
      { path: 'big', source: path.join(dir, 'big') },
      { path: 'src/small.py', source: path.join(dir, 'small') },
    ]
    expect(await failure(files, () => unlinkSync(path.join(dir, 'small')))).toMatchObject({
      code: 'E_CONTEXT',
      field: 'src/small.py',
    })
    expect(
      await failure(files.slice(0, 1), () => truncateSync(path.join(dir, 'big'), 1000)),
    ).toMatchObject({
      code: 'E_CONTEXT',
      field: 'big',
      message: `Source "${path.join(dir, 'big')}" of context file "big" shrank while being read`,
    })
  })

  it('refuses a source that is not a regular file', async () => {
    const bad = { ...plan, files: [{ path: 'src/dir', source: src }] }
    await expect(untar(packContext(bad))).rejects.toMatchObject({
      code: 'E_CONTEXT',
      field: 'src/dir',
    })
  })
})

describe('writeContext', () => {
  it('writes every file with its mode, and the Dockerfile', async () => {
    const out = path.join(useTempDir('ctxout-'), 'ctx')
    mkdirSync(out)
    await writeContext(plan, out)
    expect(readFileSync(path.join(out, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n')
    expect(readFileSync(path.join(out, 'requirements_uv.txt'), 'utf8')).toBe('numpy\nflytekit')
    expect(statSync(path.join(out, 'src/run.sh')).mode & 0o777).toBe(0o750)
    expect(statSync(path.join(out, 'data/big.bin')).size).toBe(700_000)
  })

  it("replaces a path placed twice, and never writes through a link found at a file's place", async () => {
    const out = useTempDir('ctxout-')
    const a = path.join(src, 'twice-a.txt')
    const b = path.join(src, 'twice-b.txt')
    writeFileSync(a, 'first')
    writeFileSync(b, 'second')
    const victim = path.join(src, 'victim.txt')
    writeFileSync(victim, 'untouched')
    symlinkSync(victim, path.join(out, 'linked.txt'))
    await writeContext(
      {
        dockerfile: 'FROM scratch\n',
        files: [
          { path: 'same.txt', source: a },
          { path: 'same.txt', source: b },
          { path: 'linked.txt', source: a },
        ],
        warnings: [],
        secrets: [],
      },
      out,
    )
    expect(readFileSync(path.join(out, 'same.txt'), 'utf8')).toBe('second')
    expect(lstatSync(path.join(out, 'linked.txt')).isSymbolicLink()).toBe(false)
    expect(readFileSync(path.join(out, 'linked.txt'), 'utf8')).toBe('first')
    expect(readFileSync(victim, 'utf8')).toBe('untouched')
  })
})
