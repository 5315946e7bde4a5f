// The commands on Python sources (no engine: names, validation, rendering, and the noop builder / dry runs).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runMain } from './_main.js'

const dir = mkdtempSync(join(tmpdir(), 'imagespec-cli-py-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(
  join(dir, 'wf.py'),
  `import os
from flytekit import ImageSpec, task

REGISTRY = os.getenv("REGISTRY", "ghcr.io/acme")
base = ImageSpec(name="base", registry=REGISTRY, python_version="3.11")
train = base.with_packages(["torch"])

@task(container_image=train.with_apt_packages("git"))
def t() -> None: ...
`,
)
writeFileSync(
  join(dir, 'bad.py'),
  `from flytekit import ImageSpec
ok = ImageSpec(name="ok")
wrong = ImageSpec(name="wrong", packages="requests")
dynamic = ImageSpec(name=compute())
`,
)
mkdirSync(join(dir, 'noop/sub'), { recursive: true })
writeFileSync(
  join(dir, 'noop/sub/images.py'),
  `from flytekit import ImageSpec
prebuilt = ImageSpec(name="pre", builder="noop", base_image="ghcr.io/acme/prebuilt:1")
again = ImageSpec(name="pre", builder="noop", base_image="ghcr.io/acme/prebuilt:1")
`,
)
writeFileSync(join(dir, 'noop/.gitignore'), 'skip/\n')
mkdirSync(join(dir, 'noop/skip'), { recursive: true })
writeFileSync(
  join(dir, 'noop/skip/x.py'),
  'from flytekit import ImageSpec\nx = ImageSpec(name="x", builder="noop", base_image="a:1")\n',
)

const cli = (args: string[], env: Record<string, string> = {}) => runMain(dir, args, { env })

describe('imagespec scan', () => {
  it('--json lists specs and skipped expressions with file, line and variable', async () => {
    const r = await cli(['scan', '--json', 'wf.py', 'bad.py'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(
      j.specs.map((s: { file: string; line: number; variable: string | null }) => [
        s.file,
        s.line,
        s.variable,
      ]),
    ).toEqual([
      ['wf.py', 5, 'base'],
      ['wf.py', 6, 'train'],
      ['wf.py', 8, null],
      ['bad.py', 2, 'ok'],
      ['bad.py', 3, 'wrong'],
    ])
    expect(j.specs[2].spec).toEqual({
      name: 'base',
      registry: 'ghcr.io/acme',
      python_version: '3.11',
      packages: ['torch'],
      apt_packages: ['git'],
    })
    expect(j.skipped).toEqual([
      { file: 'bad.py', line: 4, reason: 'not evaluable: `compute()`: a call of compute()' },
    ])
  })
  it('prints one line per spec with its image name; the environment sets the registry', async () => {
    const r = await cli(['scan', 'wf.py'], { REGISTRY: 'localhost:5000' })
    expect(r.stdout).toMatch(
      /^wf\.py:5 {2}base {2}localhost:5000\/base:\w{22}\nwf\.py:6 {2}train {2}localhost:5000\/base:\w{22}\n/,
    )
  })
  it('refuses spec files and missing paths (exit 2)', async () => {
    expect((await cli(['scan', 'spec.yaml'])).code).toBe(2)
    const r = await cli(['scan', 'nope.py'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('"nope.py" not found')
  })
})

describe('name, validate, render, exists on Python sources', () => {
  it('name prints every spec; --select VAR and FILE:LINE pick one; --json gives a list', async () => {
    const all = await cli(['name', 'wf.py'])
    expect(all.stdout.trim().split('\n')).toHaveLength(3)
    const one = await cli(['name', 'wf.py', '--select', 'train'])
    expect(one.stdout).toBe(all.stdout.split('\n')[1] + '\n')
    expect((await cli(['name', 'wf.py:6'])).stdout).toBe(one.stdout)
    const j = JSON.parse((await cli(['name', '--json', 'wf.py:8'])).stdout)
    expect(j).toEqual([
      expect.objectContaining({
        file: 'wf.py',
        line: 8,
        variable: null,
        image_name: expect.stringMatching(/^ghcr\.io\/acme\/base:/),
      }),
    ])
  })
  it('a selection that matches nothing lists what was found (exit 2)', async () => {
    const r = await cli(['name', 'wf.py', '--select', 'nope'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('No ImageSpec named nope found in "wf.py"')
    expect(r.stderr).toContain('found: wf.py:5 (base), wf.py:6 (train), wf.py:8')
    const skipped = await cli(['name', 'bad.py:4'])
    expect(skipped.code).toBe(2)
    expect(skipped.stderr).toContain('a call of compute()')
  })
  it('validate prints file:line: field: message per problem, not-evaluable specs included (exit 2)', async () => {
    expect(await cli(['validate', 'wf.py'])).toEqual({ code: 0, stdout: '', stderr: '' })
    const r = await cli(['validate', 'bad.py'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe(
      'bad.py:3: packages: packages must be a list of strings or None\nbad.py:4: not evaluable: `compute()`: a call of compute()\n',
    )
    expect((await cli(['validate', 'bad.py', '--select', 'ok'])).code).toBe(0)
  })
  it('name on an invalid spec names where it is', async () => {
    const r = await cli(['name', 'bad.py'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('bad.py:3 (wrong): packages must be a list of strings or None')
  })
  it('render takes one spec: several are a usage error listing them', async () => {
    const many = await cli(['render', 'wf.py', '--dockerfile-only'])
    expect(many.code).toBe(2)
    expect(many.stderr).toContain('"wf.py" holds 3 ImageSpecs')
    const one = await cli(['render', 'wf.py:6', '--dockerfile-only'])
    expect(one.code, one.stderr).toBe(0)
    const [{ id }] = JSON.parse(
      (await cli(['name', '--json', 'wf.py', '--select', 'train'])).stdout,
    )
    expect(one.stdout).toContain(`ENV _F_IMG_ID=${id}\n`)
  })
  it('exists probes every spec (exit 3 when any answer is unknown)', async () => {
    const r = await cli(['exists', '--json', 'wf.py', '--select', 'base'], {
      REGISTRY: '127.0.0.1:9',
    })
    expect(r.code).toBe(3)
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({ file: 'wf.py', line: 5, variable: 'base', status: 'unknown' }),
    ])
  })
})

describe('build on Python sources', () => {
  it('a folder: every .py not ignored by .gitignore, each distinct image once', async () => {
    const r = await cli(['build', 'noop'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('Using image: ghcr.io/acme/prebuilt:1\n')
  })
  it('--dry-run prints each distinct image once, nested bases first', async () => {
    writeFileSync(
      join(dir, 'nested.py'),
      `from flytekit import ImageSpec
base = ImageSpec(name="nb", builder="noop", base_image="ghcr.io/acme/prebuilt:1")
child = ImageSpec(name="nc", builder="noop", base_image=base)
`,
    )
    const r = await cli(['build', '--dry-run', 'nested.py'])
    expect(r.code, r.stderr).toBe(0)
    expect([...r.stdout.matchAll(/^Image: (.*)$/gm)].map((m) => m[1].split(':')[0])).toEqual([
      'nb',
      'nc',
    ])
  })
  it('rejects a bad --jobs', async () => {
    expect((await cli(['build', 'noop', '--jobs', '0'])).code).toBe(2)
  })
})
