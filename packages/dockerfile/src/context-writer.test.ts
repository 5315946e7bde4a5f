import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openContextWriter } from './context-writer.js'

const root = mkdtempSync(path.join(tmpdir(), 'ctxwriter-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = () => {
  const dir = path.join(root, `out${n++}`)
  mkdirSync(dir)
  return dir
}
const source = (name: string, content: string, mode = 0o644) => {
  const file = path.join(root, name)
  writeFileSync(file, content, { mode })
  return file
}

describe('openContextWriter', () => {
  it('writes files, inline content and directories in order, with modes, on many batches', async () => {
    const out = fresh()
    const script = source('run.sh', '#!/bin/sh\n', 0o750)
    const writer = openContextWriter(out)
    writer.place({ path: 'requirements_uv.txt', content: 'numpy' })
    writer.place({ path: 'empty/dir', directory: true })
    writer.place({ path: 'bin/run.sh', source: script })
    writer.place({ path: 'bin/ro.sh', source: script, mode: 0o555 })
    writer.place({ path: 'entry.sh', content: 'x', mode: 0o755 })
    for (let i = 0; i < 1000; i++) writer.place({ path: `many/d${i % 7}/f${i}`, content: `${i}` })
    await writer.close()
    expect(readFileSync(path.join(out, 'requirements_uv.txt'), 'utf8')).toBe('numpy')
    expect(statSync(path.join(out, 'empty/dir')).isDirectory()).toBe(true)
    expect(statSync(path.join(out, 'bin/run.sh')).mode & 0o777).toBe(0o750)
    expect(statSync(path.join(out, 'bin/ro.sh')).mode & 0o777).toBe(0o555)
    expect(statSync(path.join(out, 'entry.sh')).mode & 0o777).toBe(0o755)
    expect(readFileSync(path.join(out, 'many/d5/f999'), 'utf8')).toBe('999')
  })

  it('stops at the first source that cannot be read: the files placed before it stay, none after', async () => {
    const out = fresh()
    const ok = source('ok.txt', 'ok')
    const writer = openContextWriter(out)
    for (let i = 0; i < 300; i++) writer.place({ path: `before/f${i}`, source: ok })
    writer.place({
      path: 'gone.txt',
      source: path.join(root, 'missing.txt'),
      missingMessage: 'no such',
    })
    for (let i = 0; i < 300; i++) writer.place({ path: `after/f${i}`, source: ok })
    await expect(writer.close()).rejects.toMatchObject({
      code: 'E_CONTEXT',
      field: 'gone.txt',
      message: 'no such',
    })
    expect(existsSync(path.join(out, 'before/f299'))).toBe(true)
    expect(existsSync(path.join(out, 'after'))).toBe(false)
    // once the failure is known, placing throws it
    const second = openContextWriter(fresh())
    second.place({ path: 'x', source: path.join(root, 'missing.txt') })
    await expect(second.close()).rejects.toMatchObject({
      code: 'E_CONTEXT',
      message: `Source "${path.join(root, 'missing.txt')}" of context file "x" does not exist`,
    })
    expect(() => second.place({ path: 'y', content: '' })).toThrow(/does not exist/)
  })

  it('never writes through a link found at the place of a copy or of inline content; a path placed twice is replaced', async () => {
    const out = fresh()
    const victim = source('victim.txt', 'untouched')
    symlinkSync(victim, path.join(out, 'copied.txt'))
    symlinkSync(victim, path.join(out, 'inline.txt'))
    const writer = openContextWriter(out)
    writer.place({ path: 'copied.txt', source: source('a.txt', 'first') })
    writer.place({ path: 'inline.txt', content: 'inline' })
    writer.place({ path: 'twice.txt', content: 'one' })
    writer.place({ path: 'twice.txt', source: source('b.txt', 'two') })
    await writer.close()
    expect(readFileSync(victim, 'utf8')).toBe('untouched')
    expect(lstatSync(path.join(out, 'copied.txt')).isSymbolicLink()).toBe(false)
    expect(readFileSync(path.join(out, 'inline.txt'), 'utf8')).toBe('inline')
    expect(readFileSync(path.join(out, 'twice.txt'), 'utf8')).toBe('two')
  })
})
