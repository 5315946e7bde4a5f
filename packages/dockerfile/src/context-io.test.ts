import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { text } from 'node:stream/consumers'
import tar from 'tar-stream'
import { describe, expect, it } from 'vitest'
import type { BuildContextPlan } from '@imagespec/spec'
import { packContext, writeContext } from './context-io.js'

const src = mkdtempSync(path.join(tmpdir(), 'ctxio-'))
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

async function untar(stream: NodeJS.ReadableStream) {
  const entries: { name: string; type: string; mode: number; body: Buffer }[] = []
  const extract = tar.extract()
  extract.on('entry', (header, body, next) => {
    const chunks: Buffer[] = []
    body.on('data', (c) => chunks.push(c as Buffer))
    body.on('end', () => {
      entries.push({ name: header.name, type: header.type!, mode: header.mode!, body: Buffer.concat(chunks) })
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

  it('fails the stream when a source is missing, with the file\'s message', async () => {
    const bad = { ...plan, files: [{ path: 'pyproject.toml', source: path.join(src, 'nope'), missingMessage: 'To use uv.lock, ...' }] }
    await expect(untar(packContext(bad))).rejects.toThrow('To use uv.lock, ...')
  })
})

describe('writeContext', () => {
  it('writes every file with its mode, and the Dockerfile', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'ctxout-')), 'ctx')
    mkdirSync(out)
    await writeContext(plan, out)
    expect(readFileSync(path.join(out, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n')
    expect(readFileSync(path.join(out, 'requirements_uv.txt'), 'utf8')).toBe('numpy\nflytekit')
    expect(statSync(path.join(out, 'src/run.sh')).mode & 0o777).toBe(0o750)
    expect(statSync(path.join(out, 'data/big.bin')).size).toBe(700_000)
  })
})
