import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runMain } from './_main.js'

const dir = mkdtempSync(join(tmpdir(), 'imagespec-explain-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
mkdirSync(join(dir, 'src/app'), { recursive: true })
writeFileSync(join(dir, 'src/app/__init__.py'), 'A = 1\n')
writeFileSync(
  join(dir, 'a.yaml'),
  'name: app\npackages: [numpy]\nsource_root: src\nsource_copy_mode: all\n',
)

describe('imagespec explain', () => {
  it('prints the hashed fields and the files behind the source digest', async () => {
    const r = await runMain(dir, ['explain', 'a.yaml'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^Image: app:\S{22}\n/)
    expect(r.stdout).toContain("packages          ['numpy']")
    expect(r.stdout).toMatch(
      /source_root digest [0-9a-f]{32}: 1 file\n {2}[0-9a-f]{32} {2}src\/app\/__init__\.py/,
    )
  })

  it('--against another spec names the changed fields and files; --json has the documented keys', async () => {
    const before = JSON.parse((await runMain(dir, ['explain', 'a.yaml', '--json'])).stdout)
    writeFileSync(
      join(dir, 'b.yaml'),
      'name: app\npackages: [numpy, pandas]\nsource_root: src\nsource_copy_mode: all\n',
    )
    writeFileSync(join(dir, 'src/app/__init__.py'), 'A = 2\n')
    const r = await runMain(dir, ['explain', 'b.yaml', '--against', 'a.yaml', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(Object.keys(j).slice(0, 3)).toEqual(['tag', 'against_tag', 'changed'])
    // a.yaml is explained now, after the source edit: only the packages differ.
    expect(j.changed).toEqual(['packages'])
    expect(j.against_tag).not.toBe(before.tag)
    const human = await runMain(dir, ['explain', 'b.yaml', '--against', 'a.yaml'])
    expect(human.stdout).toContain('  changed: packages\n')
    const same = await runMain(dir, ['explain', 'a.yaml', '--against', 'a.yaml', '--json'])
    expect(JSON.parse(same.stdout)).toMatchObject({
      changed: [],
      against_tag: JSON.parse(same.stdout).tag,
    })
  })
})
