import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { computeId } from './identity.js'
import { loadSpec, parseSpecText } from './load.js'
import { PyFloat } from './types.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'imagespec-load-'))
const write = (name: string, text: string) => {
  writeFileSync(path.join(dir, name), text)
  return path.join(dir, name)
}

describe('parseSpecText (PyYAML safe_load semantics)', () => {
  it('keeps YAML floats as PyFloat and ints as numbers', () => {
    const v = parseSpecText('a: 3.10\nb: 3\nc: 3.0\nd: 1e5\ne: 1.0e+5\nf: .inf\ng: 1_000.5\nh: "3.10"\n', 'x.yaml')
    expect(v).toEqual({
      a: new PyFloat(3.1), b: 3, c: new PyFloat(3), d: '1e5', e: new PyFloat(100000), f: new PyFloat(Infinity),
      g: new PyFloat(1000.5), h: '3.10',
    })
  })

  it('reads YAML 1.1 booleans as PyYAML does (y/n stay strings)', () => {
    expect(parseSpecText('a: yes\nb: Off\nc: y\nd: n\n', 'x.yaml')).toEqual({ a: true, b: false, c: 'y', d: 'n' })
  })

  it('keeps JSON floats as floats', () => {
    expect(parseSpecText('{"a": 3.0, "b": 3, "c": 1e5}', 'x.json', { json: true })).toEqual({
      a: new PyFloat(3), b: 3, c: new PyFloat(100000),
    })
  })

  it('names the file, line and column of a syntax error', () => {
    expect(() => parseSpecText('name: x\npackages: [a, b\n', 'spec.yaml')).toThrow(/^Cannot parse "spec.yaml" at line \d+, column \d+: /)
  })
})

describe('loadSpec', () => {
  it('loads vector 43 (the YAML file of flytekit\'s tests)', async () => {
    const loaded = await loadSpec(write('imageSpec.yaml', 'python_version: 3.9\nbuilder: test\n'), { machine: 'x86_64', env: {} })
    expect(loaded.spec.python_version).toEqual(new PyFloat(3.9))
    expect(loaded.cwd).toBe(dir)
    expect(computeId(loaded.spec)).toBe('Y1edP_q9HI8EcTl_ynDGHw')
  })

  it('resolves a relative file against cwd and reads JSON', async () => {
    const loaded = await loadSpec('s.json', { cwd: write('s.json', '{"name": "J", "python_version": 3.1}') && dir })
    expect(loaded).toMatchObject({ source: 's.json', cwd: dir, spec: { name: 'j', python_version: new PyFloat(3.1) } })
  })

  it('reads standard input with the cwd as base', async () => {
    const loaded = await loadSpec('-', { cwd: '/srv', stdin: Readable.from(['name: from-stdin\n']), env: { FLYTE_IMG_FAST_FAIL: '1' } })
    expect(loaded).toMatchObject({ source: '-', cwd: '/srv', fastFail: true, spec: { name: 'from-stdin' } })
  })

  it('fails clearly', async () => {
    await expect(loadSpec(path.join(dir, 'missing.yaml'))).rejects.toMatchObject({
      code: 'E_SPEC_NOT_FOUND',
      message: `Spec file "${path.join(dir, 'missing.yaml')}" not found`,
    })
    await expect(loadSpec(write('list.yaml', '- a\n'))).rejects.toMatchObject({
      code: 'E_SPEC_INVALID',
      message: expect.stringContaining('must be a mapping of ImageSpec fields, got a list'),
    })
    await expect(loadSpec(write('empty.yaml', ''))).rejects.toMatchObject({ message: expect.stringContaining('got an empty document') })
    await expect(loadSpec(write('bad.yaml', 'a: [\n'))).rejects.toMatchObject({ code: 'E_SPEC_INVALID', message: expect.stringMatching(/bad.yaml" at line 2, column 1/) })
    await expect(loadSpec(write('unknown.yaml', 'nmae: x\n'))).rejects.toMatchObject({
      message: "ImageSpec.__init__() got an unexpected keyword argument 'nmae'",
    })
  })
})
