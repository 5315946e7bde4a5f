import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import {
  diffExplanations,
  EXPLAIN_LABEL_MAX,
  explainLabel,
  explainSpec,
  explanationDigest,
  parseExplainLabel,
} from './explain.js'
import { computeTag } from './identity.js'
import { specFromObject } from './normalize.js'

function project(files: Record<string, string>): string {
  const dir = useTempDir('imagespec-explain-')
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true })
    writeFileSync(join(dir, p), text)
  }
  return dir
}

const spec = (cwd: string, fields: Record<string, unknown>) =>
  specFromObject(fields, { cwd, env: {} })

describe('explainSpec', () => {
  it('shows the hashed fields as Python reprs, with the digests and the files behind them', async () => {
    const dir = project({
      'src/app/__init__.py': 'A = 1\n',
      'src/app/main.py': 'print(1)\n',
      'req.txt': 'numpy\n',
      'data/x.csv': '1,2\n',
    })
    const loaded = spec(dir, {
      name: 'app',
      packages: ['a', 'b'],
      source_root: 'src',
      source_copy_mode: 'all',
      requirements: 'req.txt',
      copy: ['data'],
      pip_secret_mounts: [['pip.conf', '/etc/pip.conf']],
    })
    const e = await explainSpec(loaded)
    expect(e.tag).toBe(await computeTag(loaded))
    expect(e.fields.name).toBe("'app'")
    expect(e.fields.packages).toBe("['a', 'b']")
    expect(e.fields.pip_secret_mounts).toBeUndefined() // not hashed
    expect(e.fields.source_root).toBe(`'${e.sources.source_root!.digest}'`)
    expect(e.sources.source_root!.files.map((f) => f.path)).toEqual([
      'src/app/__init__.py',
      'src/app/main.py',
    ])
    expect(e.sources.copy!.files.map((f) => f.path)).toEqual(['data/x.csv'])
    expect(e.sources.requirements!.files).toEqual([
      { path: 'req.txt', md5: expect.stringMatching(/^[0-9a-f]{32}$/) },
    ])
  })
})

describe('diffExplanations', () => {
  it('names the fields and the files that changed the tag', async () => {
    const dir = project({ 'src/a.py': 'A = 1\n', 'src/b.py': 'B = 1\n' })
    const before = await explainSpec(
      spec(dir, { name: 'app', packages: ['a'], source_root: 'src', source_copy_mode: 'all' }),
    )
    writeFileSync(join(dir, 'src/b.py'), 'B = 2\n')
    writeFileSync(join(dir, 'src/c.py'), 'C = 1\n')
    const after = await explainSpec(
      spec(dir, { name: 'app', packages: ['a', 'b'], source_root: 'src', source_copy_mode: 'all' }),
    )
    expect(after.tag).not.toBe(before.tag)
    expect(diffExplanations(explanationDigest(after), explanationDigest(before))).toEqual([
      'source_root',
      'packages',
      'src/b.py',
      'src/c.py',
    ])
    expect(diffExplanations(explanationDigest(after), explanationDigest(after))).toEqual([])
  })

  it('round-trips through the image label, which holds no field values', async () => {
    const dir = project({})
    const e = await explainSpec(spec(dir, { name: 'app', env: { TOKEN: 'hunter2-value' } }))
    const label = explainLabel(e)
    expect(label).not.toContain('hunter2-value')
    const parsed = parseExplainLabel(label)!
    expect(parsed).toEqual(explanationDigest(e))
    const other = await explainSpec(spec(dir, { name: 'app', env: { TOKEN: 'other' } }))
    expect(diffExplanations(explanationDigest(other), parsed)).toEqual(['env'])
    expect(parseExplainLabel('not json')).toBeUndefined()
    expect(parseExplainLabel('{"v":2}')).toBeUndefined()
  })

  it('keeps a label bounded: a huge file list is dropped, the field hashes stay', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 800; i++) files[`src/module_with_a_long_name_${i}.py`] = `X = ${i}\n`
    const dir = project(files)
    const e = await explainSpec(
      spec(dir, { name: 'app', source_root: 'src', source_copy_mode: 'all' }),
    )
    const label = explainLabel(e)
    expect(label.length).toBeLessThanOrEqual(EXPLAIN_LABEL_MAX)
    const parsed = parseExplainLabel(label)!
    expect(parsed.files).toBeUndefined()
    expect(diffExplanations(explanationDigest(e), parsed)).toEqual([])
  })
})
