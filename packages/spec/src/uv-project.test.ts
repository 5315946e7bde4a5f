import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { describeIdentity } from './identity.js'
import { explainSpec } from './explain.js'
import { specFromObject } from './normalize.js'
import { readLockProject, readUvLock } from './uv-project.js'

const scratch = mkdtempSync(path.join(tmpdir(), 'imagespec-uvproj-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const WORKSPACE_LOCK = `version = 1
requires-python = ">=3.11"

[manifest]
members = [
    "imagespec-ws-member",
    "imagespec-ws-root",
]

[[package]]
name = "imagespec-py-dep"
version = "1.0.0"
source = { registry = "http://127.0.0.1:1/simple" }
wheels = [
    { url = "http://127.0.0.1:1/simple/imagespec-py-dep/imagespec_py_dep-1.0.0-py3-none-any.whl", hash = "sha256:0000000000000000000000000000000000000000000000000000000000000000" },
]

[[package]]
name = "imagespec-ws-member"
version = "0.1.0"
source = { editable = "packages/member" }
dependencies = [
    { name = "imagespec-py-dep" },
]

[package.metadata]
requires-dist = [{ name = "imagespec-py-dep" }]

[[package]]
name = "imagespec-ws-root"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "imagespec-ws-member" },
]

[package.metadata]
requires-dist = [{ name = "imagespec-ws-member", editable = "packages/member" }]
`

/** A uv workspace: the root project, one member under packages/, a .venv and a cache file that are never read. */
function workspace(name: string, lock = WORKSPACE_LOCK): string {
  const dir = path.join(scratch, name)
  const files: Record<string, string> = {
    'uv.lock': lock,
    'pyproject.toml':
      '[project]\nname = "imagespec-ws-root"\nversion = "0.1.0"\n\n[tool.uv.workspace]\nmembers = ["packages/*"]\n',
    'ws_root/__init__.py': 'ROOT = 1\n',
    'packages/member/pyproject.toml':
      '[project]\nname = "imagespec-ws-member"\nversion = "0.1.0"\n',
    'packages/member/ws_member/__init__.py': 'MEMBER = 1\n',
    'packages/member/ws_member/__pycache__/x.pyc': 'junk',
    '.venv/lib/site.py': 'venv',
  }
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    writeFileSync(path.join(dir, rel), text)
  }
  return dir
}

const load = (cwd: string, extra: Record<string, unknown> = {}) =>
  specFromObject(
    { name: 'ws', requirements: 'uv.lock', ...extra },
    { cwd, machine: 'x86_64', env: {} },
  )
const sha1 = (s: string) => createHash('sha1').update(s.trim()).digest('hex')

describe('uv workspaces', () => {
  it('reads the members, the root package and the registry pins from uv.lock', async () => {
    const lock = await readUvLock(path.join(workspace('read'), 'uv.lock'))
    expect(lock.members).toEqual([{ name: 'imagespec-ws-member', path: 'packages/member' }])
    expect(lock.rootPackage?.name).toBe('imagespec-ws-root')
    expect(lock.packages.find((p) => p.name === 'imagespec-py-dep')).toMatchObject({
      version: '1.0.0',
      source: { registry: 'http://127.0.0.1:1/simple' },
    })
  })

  it('lists the files the install reads: members always, the whole project with install_project; never .venv', async () => {
    const dir = workspace('files')
    const ws = await readLockProject(load(dir).spec, dir)
    expect(ws).toMatchObject({ workspace: true, installProject: false })
    expect(ws?.files).toEqual([
      'packages/member/pyproject.toml',
      'packages/member/ws_member/__init__.py',
      'pyproject.toml',
      'uv.lock',
    ])
    const all = await readLockProject(
      load(dir, { builder_options: { install_project: true } }).spec,
      dir,
    )
    expect(all?.files).toEqual([
      'packages/member/pyproject.toml',
      'packages/member/ws_member/__init__.py',
      'pyproject.toml',
      'uv.lock',
      'ws_root/__init__.py',
    ])
    await expect(
      readLockProject(load(dir, { builder_options: { install_project: 'yes' } }).spec, dir),
    ).rejects.toMatchObject({
      code: 'E_SPEC_INVALID',
      field: 'builder_options.install_project',
    })
  })

  it("a workspace's tag covers its members and root pyproject.toml (flytekit cannot build one)", async () => {
    const dir = workspace('tag')
    const first = await describeIdentity(load(dir))
    expect(first.tagFields.requirements).not.toBe(`'${sha1(WORKSPACE_LOCK)}'`)
    writeFileSync(
      path.join(dir, 'packages/member/pyproject.toml'),
      '[project]\nname = "imagespec-ws-member"\nversion = "0.2.0"\n',
    )
    const second = await describeIdentity(load(dir))
    expect(second.tag).not.toBe(first.tag)
    writeFileSync(path.join(dir, 'packages/member/ws_member/__init__.py'), 'MEMBER = 2\n')
    const third = await describeIdentity(load(dir))
    expect(third.tag).not.toBe(second.tag)
    writeFileSync(path.join(dir, '.venv/lib/site.py'), 'changed')
    expect((await describeIdentity(load(dir))).tag).toBe(third.tag)
    // the root's own sources join only with install_project
    writeFileSync(path.join(dir, 'ws_root/__init__.py'), 'ROOT = 2\n')
    expect((await describeIdentity(load(dir))).tag).toBe(third.tag)
    const withProject = await describeIdentity(
      load(dir, { builder_options: { install_project: true } }),
    )
    writeFileSync(path.join(dir, 'ws_root/__init__.py'), 'ROOT = 3\n')
    expect(
      (await describeIdentity(load(dir, { builder_options: { install_project: true } }))).tag,
    ).not.toBe(withProject.tag)
  })

  it("a single project keeps flytekit's tag (the uv.lock's sha1 only), install_project too", async () => {
    const single = WORKSPACE_LOCK.replace(/\[manifest\][\s\S]*?(?=\[\[package\]\])/, '')
    const dir = workspace('single', single)
    for (const extra of [{}, { builder_options: { install_project: true } }]) {
      const before = await describeIdentity(load(dir, extra))
      expect(before.tagFields.requirements).toBe(`'${sha1(single)}'`)
      writeFileSync(path.join(dir, 'pyproject.toml'), `# edited ${JSON.stringify(extra)}\n`)
      writeFileSync(path.join(dir, 'ws_root/__init__.py'), `# edited ${JSON.stringify(extra)}\n`)
      expect((await describeIdentity(load(dir, extra))).tag).toBe(before.tag)
    }
    expect(await readLockProject(load(dir).spec, dir)).toMatchObject({
      workspace: false,
      files: undefined,
    })
  })

  it("a uv.lock that is not TOML keeps flytekit's tag (flytekit never parses it)", async () => {
    const dir = workspace('broken', 'x = = broken\n')
    const d = await describeIdentity(load(dir))
    expect(d.tagFields.requirements).toBe(`'${sha1('x = = broken')}'`)
    expect(await readLockProject(load(dir).spec, dir)).toMatchObject({
      workspace: false,
      uvLock: undefined,
      files: undefined,
    })
  })

  it('explain lists every file of a workspace digest', async () => {
    const dir = workspace('explain')
    const e = await explainSpec(load(dir))
    expect(e.sources.requirements?.files.map((f) => f.path)).toEqual([
      'packages/member/pyproject.toml',
      'packages/member/ws_member/__init__.py',
      'pyproject.toml',
      'uv.lock',
    ])
  })

  it('refuses a member outside the lock directory', async () => {
    const dir = workspace(
      'outside',
      WORKSPACE_LOCK.replace('editable = "packages/member"', 'editable = "../elsewhere"'),
    )
    await expect(describeIdentity(load(dir))).rejects.toMatchObject({
      code: 'E_SPEC_INVALID',
      field: 'requirements',
    })
  })
})
