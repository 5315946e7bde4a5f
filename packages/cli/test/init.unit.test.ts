import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runMain } from './_main.js'

const root = mkdtempSync(join(tmpdir(), 'imagespec-init-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const project = (name: string, files: Record<string, string> = {}) => {
  const dir = join(root, name)
  mkdirSync(dir)
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text)
  return dir
}

describe('imagespec init', () => {
  it('writes a commented spec that validates, with the yaml-language-server schema line', async () => {
    const dir = project('My App')
    const r = await runMain(dir, ['init'])
    expect(r.code, r.stderr).toBe(0)
    const text = readFileSync(join(dir, 'imagespec.yaml'), 'utf8')
    expect(text).toMatch(
      /^# yaml-language-server: \$schema=https:\/\/unpkg\.com\/@imagespec\/spec\/schema\.json\n/,
    )
    expect(text).toContain('name: my-app\n')
    expect(await runMain(dir, ['validate', 'imagespec.yaml'])).toMatchObject({
      code: 0,
      stdout: '',
    })
    expect((await runMain(dir, ['name', 'imagespec.yaml'])).stdout).toMatch(/^my-app:\S{22}\n$/)
    const again = await runMain(dir, ['init'])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('already exists')
    expect((await runMain(dir, ['init', '--force'])).code).toBe(0)
  })

  it('--from requirements.txt and uv.lock point requirements at the file', async () => {
    const dir = project('reqs', {
      'requirements.txt': 'numpy==2.0\n',
      'uv.lock': 'version = 1\n',
      'pyproject.toml': '[project]\nname = "x"\n',
    })
    expect((await runMain(dir, ['init', '--from', 'requirements.txt'])).code).toBe(0)
    expect(readFileSync(join(dir, 'imagespec.yaml'), 'utf8')).toContain(
      'requirements: "requirements.txt"\n',
    )
    expect((await runMain(dir, ['validate', 'imagespec.yaml'])).code).toBe(0)
    expect((await runMain(dir, ['init', '--from', 'uv.lock', '--out', 'uv.yaml'])).code).toBe(0)
    expect(readFileSync(join(dir, 'uv.yaml'), 'utf8')).toContain('requirements: "uv.lock"\n')
    expect((await runMain(dir, ['validate', 'uv.yaml'])).code).toBe(0)
  })

  it('--from pyproject.toml takes the project name, python and dependencies', async () => {
    const dir = project('py', {
      'pyproject.toml':
        '[project]\nname = "Data_Tool"\nrequires-python = ">=3.12"\ndependencies = ["pandas>=2", "requests"]\n',
    })
    expect((await runMain(dir, ['init', '--from', 'pyproject.toml'])).code).toBe(0)
    const text = readFileSync(join(dir, 'imagespec.yaml'), 'utf8')
    expect(text).toContain('name: data_tool\n')
    expect(text).toContain('python_version: "3.12"')
    expect(text).toContain('packages:\n  - "pandas>=2"\n  - "requests"\n')
    expect((await runMain(dir, ['validate', 'imagespec.yaml'])).code).toBe(0)
    expect((await runMain(dir, ['init', '--from', 'missing.txt', '--force'])).code).toBe(2)
  })
})
