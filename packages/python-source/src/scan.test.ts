import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { describeIdentity, isImagespecError, loadSpec } from '@imagespec/spec'
import {
  loadScannedSpec,
  scanPaths,
  scanResultJson,
  scanSource,
  type ScannedSpec,
} from './index.js'

const project = fileURLToPath(new URL('../test/fixtures/project', import.meta.url))
const env = { IMAGESPEC_FIXTURE_INDEX: 'https://pypi.example/simple' }
const scan = () => scanPaths(['.'], { cwd: project, env })
const byVar = (file: string, variable: string): ScannedSpec => {
  const s = scan().specs.find((x) => x.file === file && x.variable === variable)
  if (!s) throw new Error(`no spec ${file}:${variable}`)
  return s
}
const one = (src: string, environ: NodeJS.ProcessEnv = {}) =>
  scanSource(`from flytekit import ImageSpec\nimport os\n${src}`, 'x.py', { env: environ })

describe('scanPaths over the fixture project', () => {
  it('finds every spec and every skipped expression, in file and source order (expected JSON per rule)', () => {
    const expected = JSON.parse(
      readFileSync(path.join(project, '../project.expected.json'), 'utf8'),
    )
    expect(JSON.parse(scanResultJson(scan()))).toEqual(expected)
  })

  it('leaves out what .gitignore ignores', () => {
    const files = new Set(scan().specs.map((s) => s.file))
    expect([...files].some((f) => f.startsWith('ignored/') || f.endsWith('.generated.py'))).toBe(
      false,
    )
    expect(files.has('pkg/workflows.py')).toBe(true)
  })

  it('names files as given: a file argument as is, a folder argument joined with the relative path', () => {
    expect(scanPaths(['nested.py'], { cwd: project, env }).specs[0].file).toBe('nested.py')
    expect(scanPaths(['pkg/'], { cwd: project, env }).specs[0].file).toBe('pkg/cycle_a.py')
    expect(scanPaths([path.join(project, 'pkg')], { env }).specs[0].file).toBe(
      path.join(project, 'pkg/cycle_a.py'),
    )
  })

  it('fails with E_SPEC_NOT_FOUND for a missing path', () => {
    try {
      scanPaths(['nope.py'], { cwd: project })
      expect.unreachable()
    } catch (e) {
      expect(isImagespecError(e) && e.code).toBe('E_SPEC_NOT_FOUND')
    }
  })
})

describe('tags equal those of the same specs written as YAML', () => {
  const pairs: [string, string][] = [
    ['literals.py', 'literals'],
    ['literals.py', 'floats'],
    ['literals.py', 'ints'],
    ['constants.py', 'constants'],
    ['env.py', 'from_env'],
    ['with_methods.py', 'chained'],
    ['with_methods.py', 'options'],
    ['with_methods.py', 'other_type'],
    ['nested.py', 'grandchild'],
    ['nested.py', 'inline'],
    ['paths.py', 'with_paths'],
  ]
  it.each(pairs)('%s %s', async (file, variable) => {
    const scanned = await describeIdentity(
      loadScannedSpec(byVar(file, variable), { cwd: project, env, machine: 'x86_64' }),
    )
    const yaml = await describeIdentity(
      await loadSpec(`${variable}.spec.yaml`, { cwd: project, env, machine: 'x86_64' }),
    )
    expect(scanned.imageName).toBe(yaml.imageName)
    expect(scanned.id).toBe(yaml.id)
  })
})

describe('loadScannedSpec', () => {
  it('keeps force_push() unless a later with_* dropped it (flytekit quirk)', () => {
    expect(
      loadScannedSpec(byVar('with_methods.py', 'pushed'), { cwd: project, env: {} }).forcePush,
    ).toBe(true)
    expect(
      loadScannedSpec(byVar('with_methods.py', 'pushed_then_with'), { cwd: project, env: {} })
        .forcePush,
    ).toBe(false)
    expect(
      loadScannedSpec(byVar('with_methods.py', 'start'), {
        cwd: project,
        env: { FLYTE_FORCE_PUSH_IMAGE_SPEC: '1' },
      }).forcePush,
    ).toBe(true)
  })

  it("reports flytekit's own validation errors (the same normaliser as spec files)", () => {
    expect(() =>
      loadScannedSpec(byVar('with_methods.py', 'str_on_options'), { cwd: project, env: {} }),
    ).toThrow('builder_options must be a dictionary or None')
    const tuple = one('t = ImageSpec(packages=("a", "b"))').specs[0]
    expect(() => loadScannedSpec(tuple, { cwd: project, env: {} })).toThrow(
      'packages must be a list of strings or None',
    )
    const unknown = one('t = ImageSpec(nme="x")').specs[0]
    expect(() => loadScannedSpec(unknown, { cwd: project, env: {} })).toThrow(
      "unexpected keyword argument 'nme'",
    )
    const innerList = one('t = ImageSpec(pip_secret_mounts=[["a", "b"]])').specs[0]
    expect(() => loadScannedSpec(innerList, { cwd: project, env: {} })).toThrow(
      'pip_secret_mounts must be a list of tuples',
    )
  })

  it('resolves relative paths against the cwd given (the project root), not the file', () => {
    const loaded = loadScannedSpec(byVar('paths.py', 'with_paths'), { cwd: project, env: {} })
    expect(loaded.cwd).toBe(project)
    expect(loaded.source).toBe('paths.py:5')
  })
})

describe('scanSource rules', () => {
  it('evaluates strings: escapes, raw, implicit concatenation, f-string conversions, braces', () => {
    const { specs } = one(String.raw`V = 7
t = ImageSpec(name="a\x41\101\u00e9" r"\n" 'b' f"{{x}}{V}{V!r}{'q'!r}" + "z", env={"K": "line\
cont"})`)
    expect(specs[0].spec).toEqual({ name: "aAAé\\nb{x}77'q'z", env: { K: 'linecont' } })
  })

  it('refuses what it cannot evaluate, naming the expression', () => {
    const cases: [string, RegExp][] = [
      ['ImageSpec(name=b"x")', /a bytes literal/],
      ['ImageSpec(name=f"{1:>3}")', /format spec/],
      ['ImageSpec(name="x" * 2)', /operator `\*`/],
      ['ImageSpec(name=[x for x in "ab"])', /list comprehension/],
      ['ImageSpec(packages={"a"})', /a set/],
      ['ImageSpec(name=os.path.join("a"))', /a call of os.path.join\(\)/],
      ['ImageSpec(name=lambda: 1)', /a lambda/],
      ['ImageSpec(python_version=1j)', /complex/],
      ['ImageSpec.from_env(name="x")', /a call of ImageSpec.from_env\(\)/],
    ]
    for (const [src, why] of cases) {
      const r = one(`t = ${src}`)
      expect(r.specs, src).toEqual([])
      expect(r.skipped[0]?.reason, src).toMatch(why)
      expect(r.skipped[0]?.line).toBe(3)
    }
  })

  it('reads os.getenv / os.environ from the given environment, else the default', () => {
    const src =
      't = ImageSpec(registry=os.getenv("R", "ghcr.io/a"), name=os.environ.get("N") or "dflt")'
    expect(one(src).specs[0].spec).toEqual({ registry: 'ghcr.io/a', name: 'dflt' })
    expect(one(src, { R: 'localhost:5000', N: 'n' }).specs[0].spec).toEqual({
      registry: 'localhost:5000',
      name: 'n',
    })
  })

  it('evaluates specs in function bodies and decorators, with local straight-line assignments', () => {
    const { specs, skipped } = one(`
def make(flavor):
    local = ImageSpec(name="local")
    return local.with_packages("x"), ImageSpec(name=flavor)
`)
    expect(specs.map((s) => [s.line, s.variable, s.spec])).toEqual([
      [5, 'local', { name: 'local' }],
      [6, undefined, { name: 'local', packages: ['x'] }],
    ])
    expect(skipped[0].reason).toMatch(/flavor is a parameter of make\(\)/)
  })

  it('applies a later reassignment and += in order', () => {
    const { specs } = one(
      'P = ["a"]\nP += ["b"]\nN = "x"\nN = N + "y"\nt = ImageSpec(name=N, packages=P)',
    )
    expect(specs[0].spec).toEqual({ name: 'xy', packages: ['a', 'b'] })
  })

  it('repeated dict keys keep their first position and last value, as in Python', () => {
    expect(one('t = ImageSpec(env={"a": "1", "b": "2", "a": "3"})').specs[0].spec.env).toEqual({
      a: '3',
      b: '2',
    })
    expect(
      Object.keys(
        one('t = ImageSpec(env={"a": "1", "b": "2", "a": "3"})').specs[0].spec.env as object,
      ),
    ).toEqual(['a', 'b'])
  })

  it('a name that is not ImageSpec is not a spec', () => {
    expect(one('from other import ImageSpec as X\nt = X(name="x")\nu = Image(name="y")')).toEqual({
      specs: [],
      skipped: [],
    })
  })

  it('reports a syntax error and keeps the specs it could read', () => {
    const r = one('a = ImageSpec(name="a")\ndef (:\n')
    expect(r.specs.map((s) => s.spec.name)).toEqual(['a'])
    expect(r.skipped).toEqual([
      { file: 'x.py', line: 4, reason: 'syntax error: the rest of this statement was not read' },
    ])
  })
})
