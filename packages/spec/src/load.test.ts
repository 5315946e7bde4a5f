import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import { computeId, computeTag } from './identity.js'
import { loadSpec, parseSpecText } from './load.js'
import { dictEntries } from './dict.js'
import { PyFloat } from './types.js'

const dir = useTempDir('imagespec-load-')
const write = (name: string, text: string) => {
  writeFileSync(path.join(dir, name), text)
  return path.join(dir, name)
}

describe('parseSpecText (PyYAML safe_load semantics)', () => {
  it('keeps YAML floats as PyFloat and ints as numbers', () => {
    const v = parseSpecText(
      'a: 3.10\nb: 3\nc: 3.0\nd: 1e5\ne: 1.0e+5\nf: .inf\ng: 1_000.5\nh: "3.10"\n',
      'x.yaml',
    )
    expect(v).toEqual({
      a: new PyFloat(3.1),
      b: 3,
      c: new PyFloat(3),
      d: '1e5',
      e: new PyFloat(100000),
      f: new PyFloat(Infinity),
      g: new PyFloat(1000.5),
      h: '3.10',
    })
  })

  it('reads YAML 1.1 booleans as PyYAML does (y/n stay strings)', () => {
    expect(parseSpecText('a: yes\nb: Off\nc: y\nd: n\n', 'x.yaml')).toEqual({
      a: true,
      b: false,
      c: 'y',
      d: 'n',
    })
  })

  it('reads JSON as PyYAML does (flytekit yaml.safe_load()s every spec file): 3.0 is a float, 1e5 a string', () => {
    expect(parseSpecText('{"a": 3.0, "b": 3, "c": 1e5}', 'x.json')).toEqual({
      a: new PyFloat(3),
      b: 3,
      c: '1e5',
    })
  })

  it("keeps the author's key order and Python key types; refuses keys that would collide", () => {
    const v = parseSpecText('{"1": a, b: c, "0": d, 2: e}', 'x.yaml') as Record<string, unknown>
    expect(dictEntries(v)).toEqual([
      ['1', 'a', '1'],
      ['b', 'c', 'b'],
      ['0', 'd', '0'],
      ['2', 'e', 2],
    ])
    expect(() => parseSpecText('{"1": a, 1: b}', 'x.yaml')).toThrow(
      /the keys '1' and 1 of one mapping collide/,
    )
    expect(() => parseSpecText('{[a]: b}', 'x.yaml')).toThrow(/mapping key must be a scalar/)
    expect(parseSpecText('a: 12345678901234567890\nb: 9007199254740991', 'x.yaml')).toEqual({
      a: 12345678901234567890n,
      b: 9007199254740991,
    })
  })

  it('keeps aliased mappings and lists shared, in order', () => {
    const v = parseSpecText('a: &x {"1": a, b: c}\nb: *x\n', 'x.yaml') as {
      a: Record<string, unknown>
      b: Record<string, unknown>
    }
    expect(v.b).toBe(v.a)
    expect(dictEntries(v.b).map(([k]) => k)).toEqual(['1', 'b'])
  })

  it('names the file, line and column of a syntax error', () => {
    expect(() => parseSpecText('name: x\npackages: [a, b\n', 'spec.yaml')).toThrow(
      /^Cannot parse "spec.yaml" at line \d+, column \d+: /,
    )
  })
})

describe('parseSpecText refuses hostile input with E_SPEC_INVALID', () => {
  const refuses = (text: string, file: string, message: RegExp) => {
    let err: unknown
    try {
      parseSpecText(text, file)
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({
      name: 'ImagespecError',
      code: 'E_SPEC_INVALID',
      message: expect.stringMatching(message),
    })
  }

  it('an alias bomb', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]']
    for (const [p, n] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
    ])
      levels.push(`${n}: &${n} [${Array(9).fill(`*${p}`).join(', ')}]`)
    refuses(levels.join('\n') + '\nname: x\n', 'bomb.yaml', /aliases expand to more than 100 nodes/)
  })

  it('a merge key whose value is not a mapping (found by the fuzz test; yaml threw a plain Error, exit 70)', () => {
    refuses(
      'name: x\nenv:\n  a: "1"\n  <<: false\n',
      'm.yaml',
      /^Cannot parse "m.yaml": Merge sources must be maps/,
    )
  })

  it('self-referencing aliases and a cyclic nested base_image', () => {
    refuses(
      'name: &a\n  x: *a\n',
      's.yaml',
      /^Cannot parse "s.yaml" at line 2, column 6: alias "\*a" refers to .* \(a cycle\)/,
    )
    refuses('name: x\npackages: &a [*a]\n', 's.yaml', /line 2, column 15: .*cycle/)
    refuses('name: x\nbase_image: &b {name: y, base_image: *b}\n', 's.yaml', /cycle/)
  })

  it('nesting deeper than MAX_SPEC_DEPTH, in YAML, JSON and through aliases', () => {
    refuses(
      `name: x\npackages: ${'['.repeat(65)}${']'.repeat(65)}\n`,
      'd.yaml',
      /nesting deeper than 64 levels/,
    )
    refuses(
      `name: x\npackages: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
      'd.yaml',
      /nesting deeper than 64 levels/,
    )
    refuses(
      `{"name": "x", "env": ${'{"a": '.repeat(3000)}1${'}'.repeat(3001)}`,
      'd.json',
      /nesting deeper than 64 levels/,
    )
    const stacked = ['a0: &a0 ' + '['.repeat(40) + ']'.repeat(40)]
    stacked.push('a1: &a1 ' + '['.repeat(40) + '*a0' + ']'.repeat(40))
    refuses(
      stacked.join('\n') + '\n',
      'd.yaml',
      /nesting deeper than 64 levels \(through aliases\)/,
    )
    expect(parseSpecText(`a: ${'['.repeat(60)}${']'.repeat(60)}\n`, 'ok.yaml')).toBeTruthy()
  })

  it('a duplicate key, with its position', () => {
    refuses(
      'name: x\nenv: {A: "1"}\nname: y\n',
      'dup.yaml',
      /^Cannot parse "dup.yaml" at line 3, column 1: duplicate key "name"/,
    )
    refuses('{"name": "x", "name": "y"}', 'dup.json', /duplicate key "name"/)
  })

  it(
    'parses a 40k-key env in linear time (the quadratic duplicate-key check took over a minute)',
    { timeout: 60_000 },
    () => {
      const lines = ['name: x', 'env:']
      for (let i = 0; i < 40_000; i++) lines.push(`  K${i}: v${i}`)
      const v = parseSpecText(lines.join('\n') + '\n', 'big.yaml') as {
        env: Record<string, string>
      }
      expect(Object.keys(v.env)).toHaveLength(40_000)
    },
  )
})

describe('loadSpec', () => {
  it("loads vector 43 (the YAML file of flytekit's tests)", async () => {
    const loaded = await loadSpec(write('imageSpec.yaml', 'python_version: 3.9\nbuilder: test\n'), {
      machine: 'x86_64',
      env: {},
      cwd: '/srv',
    })
    expect(loaded.spec.python_version).toEqual(new PyFloat(3.9))
    expect(loaded.cwd).toBe('/srv')
    expect(computeId(loaded.spec)).toBe('Y1edP_q9HI8EcTl_ynDGHw')
  })

  it('resolves a relative file against cwd and reads JSON', async () => {
    const loaded = await loadSpec('s.json', {
      cwd: write('s.json', '{"name": "J", "python_version": 3.1}') && dir,
    })
    expect(loaded).toMatchObject({
      source: 's.json',
      cwd: dir,
      spec: { name: 'j', python_version: new PyFloat(3.1) },
    })
  })

  it('reads standard input with the cwd as base', async () => {
    const loaded = await loadSpec('-', {
      cwd: '/srv',
      stdin: Readable.from(['name: from-stdin\n']),
      env: { FLYTE_IMG_FAST_FAIL: '1' },
    })
    expect(loaded).toMatchObject({
      source: '-',
      cwd: '/srv',
      fastFail: true,
      spec: { name: 'from-stdin' },
    })
  })

  it("resolves relative paths in the spec from the working directory, however the file was passed (flytekit's rule)", async () => {
    // pyflyte --image sub/spec.yaml reads requirements: req.txt as <cwd>/req.txt (Python's open() on a relative path).
    mkdirSync(path.join(dir, 'sub'), { recursive: true })
    writeFileSync(path.join(dir, 'req.txt'), 'numpy\n')
    writeFileSync(path.join(dir, 'sub/req.txt'), 'pandas\n')
    const text = 'name: rel\nrequirements: req.txt\n'
    writeFileSync(path.join(dir, 'sub/spec.yaml'), text)
    const byPath = await loadSpec('sub/spec.yaml', { cwd: dir, env: {} })
    const byAbsolutePath = await loadSpec(path.join(dir, 'sub/spec.yaml'), { cwd: dir, env: {} })
    const byStdin = await loadSpec('-', { cwd: dir, env: {}, stdin: Readable.from([text]) })
    expect([byPath.cwd, byAbsolutePath.cwd, byStdin.cwd]).toEqual([dir, dir, dir])
    const tags = await Promise.all([byPath, byAbsolutePath, byStdin].map((l) => computeTag(l)))
    expect(new Set(tags).size).toBe(1)
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
    await expect(loadSpec(write('empty.yaml', ''))).rejects.toMatchObject({
      message: expect.stringContaining('got an empty document'),
    })
    await expect(loadSpec(write('bad.yaml', 'a: [\n'))).rejects.toMatchObject({
      code: 'E_SPEC_INVALID',
      message: expect.stringMatching(/bad.yaml" at line 2, column 1/),
    })
    await expect(loadSpec('/dev/zero')).rejects.toMatchObject({
      code: 'E_SPEC_NOT_FOUND',
      message: 'Spec file "/dev/zero" is not a regular file',
    })
    await expect(loadSpec(dir)).rejects.toMatchObject({
      message: `Spec file "${dir}" is not a regular file`,
    })
    await expect(
      loadSpec('-', { stdin: Readable.from([Buffer.alloc(17 * 1024 * 1024, 32)]) }),
    ).rejects.toMatchObject({
      code: 'E_SPEC_INVALID',
      message: 'Spec file "-" is larger than 16 MiB',
    })
    await expect(loadSpec(write('unknown.yaml', 'nmae: x\n'))).rejects.toMatchObject({
      message: "ImageSpec.__init__() got an unexpected keyword argument 'nmae'",
      hint: 'did you mean name?',
      details: [
        "nmae: ImageSpec.__init__() got an unexpected keyword argument 'nmae' (did you mean name?)",
      ],
    })
    await expect(
      loadSpec(write('far.yaml', 'python_versoin: "3.11"\nzzz: 1\n')),
    ).rejects.toMatchObject({
      hint: 'did you mean python_version?',
      details: [
        "python_versoin: ImageSpec.__init__() got an unexpected keyword argument 'python_versoin' (did you mean python_version?)",
        "zzz: ImageSpec.__init__() got an unexpected keyword argument 'zzz'",
      ],
    })
  })
})
