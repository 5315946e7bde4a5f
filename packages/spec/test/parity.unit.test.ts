// flytekit parity on specs people write (issue 11, items 1-4): floats, non-string env values, env keys, key order.
//
// How the expected values were derived: no flytekit is installable here, so each case follows flytekit's code path by
// hand with CPython 3.11 and PyYAML 6.0.3 (the versions flytekit 1.16.24 runs on): `yaml.safe_load(text)` (what
// `Image.look_up_image_info` does for `--image spec.yaml`, JSON files included), `ImageSpec(**d)` (`name.lower()`,
// platform default `linux/amd64`), then `ImageSpec.id` = `str(asdict(spec, dict_factory=<drop None and
// pip_secret_mounts/builder/runtime_packages>))` -> md5 -> urlsafe base64 without `=`, and `tag` = id with `-` -> `_`
// (none of these specs has requirements/source_root/copy). The script (python3, no flytekit needed):
//   d = yaml.safe_load(text); spec = {f: d.get(f) for f in FIELDS}; spec['name'] = spec['name'].lower()
//   spec['platform'] = spec['platform'] or 'linux/amd64'
//   pre = str({k: v for k, v in spec.items() if v is not None and k not in EXCLUDED})
//   id = base64.urlsafe_b64encode(hashlib.md5(pre.encode()).digest()).decode().rstrip('=')
// The ENV lines are create_docker_context's `env = {"PYTHONPATH": "/root"}; env.update(spec.env)` joined as
// `f"{k}={v}"` (Python str() of each key and value).
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import { loadVectors, materializeVector, vectorInput } from '@imagespec/test-utils'
import {
  computeTag,
  describeIdentity,
  dictEntries,
  loadSpec,
  pyStr,
  resolveModuleFiles,
  specFromObject,
} from '../src/index.js'

const dir = useTempDir('imagespec-parity-')

interface Case {
  name: string
  file: string
  text: string
  preimage: string
  id: string
  /** flytekit's `f"{k}={v}"` pairs after PYTHONPATH, when the case has env. */
  env?: string
}

const cases: Case[] = [
  {
    name: '1. floats in builder_options/builder_config follow Python repr (tiny, huge, -0.0, inf, nan) and ints stay exact',
    file: 'floats.yaml',
    text: [
      'name: floats',
      'python_version: "3.11"',
      'builder_options: {a: 1.0e-05, b: 1.0e-07, c: 1.5e-06, d: 5.0e-324, e: 1.0e+16, f: -0.0, g: .inf, h: -.inf, i: .nan, j: 0.1, k: 1.0e+22, l: 100.0}',
      'builder_config: {ratio: 0.000123, big: 12345678901234567890}',
    ].join('\n'),
    preimage:
      "{'name': 'floats', 'python_version': '3.11', 'platform': 'linux/amd64', 'builder_options': {'a': 1e-05, 'b': 1e-07, 'c': 1.5e-06, 'd': 5e-324, 'e': 1e+16, 'f': -0.0, 'g': inf, 'h': -inf, 'i': nan, 'j': 0.1, 'k': 1e+22, 'l': 100.0}, 'builder_config': {'ratio': 0.000123, 'big': 12345678901234567890}}",
    id: 'VLoGDWijP5Y0teCguCT2iQ',
  },
  {
    name: '2. env values that are not strings are hashed as Python values (PyYAML reads the key ON as True)',
    file: 'env-scalars.yaml',
    text: 'name: env-scalars\nenv: {FLAG: false, ON: yes, COUNT: 1, RATIO: 1.5, SMALL: 1.0e-05, NOTHING: null, TEXT: plain}\n',
    preimage:
      "{'name': 'env-scalars', 'env': {'FLAG': False, True: True, 'COUNT': 1, 'RATIO': 1.5, 'SMALL': 1e-05, 'NOTHING': None, 'TEXT': 'plain'}, 'platform': 'linux/amd64'}",
    id: 'D2IW3YDGH1qaXKos7ntqsw',
    env: 'FLAG=False True=True COUNT=1 RATIO=1.5 SMALL=1e-05 NOTHING=None TEXT=plain',
  },
  {
    name: '3. env keys Docker accepts: non-ASCII letters, digits, dots, dashes',
    file: 'env-keys.yaml',
    text: 'name: env-keys\nenv: {CLÉ: valeur, "1": one, a.b: dotted, "My-Var": dashed}\n',
    preimage:
      "{'name': 'env-keys', 'env': {'CLÉ': 'valeur', '1': 'one', 'a.b': 'dotted', 'My-Var': 'dashed'}, 'platform': 'linux/amd64'}",
    id: 'jZu86qbiPNYFRLeGdfyQEQ',
    env: 'CLÉ=valeur 1=one a.b=dotted My-Var=dashed',
  },
  {
    name: "4. key order is the author's, integer-like keys too, nested too (YAML)",
    file: 'order.yaml',
    text: 'name: key-order\nenv: {"10": ten, "2": two, B: b, "1": one}\nbuilder_options: {"1": a, b: c, "0": d, nested: {"9": x, z: y, "3": w}}\n',
    preimage:
      "{'name': 'key-order', 'env': {'10': 'ten', '2': 'two', 'B': 'b', '1': 'one'}, 'platform': 'linux/amd64', 'builder_options': {'1': 'a', 'b': 'c', '0': 'd', 'nested': {'9': 'x', 'z': 'y', '3': 'w'}}}",
    id: 'Cc8rEiPyRJrjp1_irEzxXg',
    env: '10=ten 2=two B=b 1=one',
  },
  {
    name: "4. key order is the author's (JSON)",
    file: 'order.json',
    text: '{"name": "key-order", "env": {"10": "ten", "2": "two", "B": "b", "1": "one"}, "builder_options": {"1": "a", "b": "c", "0": "d", "nested": {"9": "x", "z": "y", "3": "w"}}}',
    preimage:
      "{'name': 'key-order', 'env': {'10': 'ten', '2': 'two', 'B': 'b', '1': 'one'}, 'platform': 'linux/amd64', 'builder_options': {'1': 'a', 'b': 'c', '0': 'd', 'nested': {'9': 'x', 'z': 'y', '3': 'w'}}}",
    id: 'Cc8rEiPyRJrjp1_irEzxXg',
    env: '10=ten 2=two B=b 1=one',
  },
  {
    name: '1. a JSON file is read as flytekit reads it (yaml.safe_load): 1e5 and 1e400 are strings, -0 is the int 0',
    file: 'numbers.json',
    text: '{"name": "json-numbers", "builder_options": {"e5": 1e5, "E5": 1.0E+5, "small": 1e-05, "neg0": -0, "negf": -0.0, "huge": 1e400, "int": 12345678901234567890}}',
    preimage:
      "{'name': 'json-numbers', 'platform': 'linux/amd64', 'builder_options': {'e5': '1e5', 'E5': 100000.0, 'small': '1e-05', 'neg0': 0, 'negf': -0.0, 'huge': '1e400', 'int': 12345678901234567890}}",
    id: 'J51_dZ6btuL-XNd4wwrl7w',
  },
]

describe("flytekit parity vectors (derived from flytekit's code path, see the header)", () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    writeFileSync(path.join(dir, c.file), c.text)
    const loaded = await loadSpec(c.file, { cwd: dir, env: {}, machine: 'x86_64' })
    const d = await describeIdentity(loaded)
    expect(d.idPreimage).toBe(c.preimage)
    expect(d.tagPreimage).toBe(c.preimage)
    expect(d.id).toBe(c.id)
    expect(d.tag).toBe(c.id.replaceAll('-', '_'))
    if (c.env !== undefined)
      expect(
        dictEntries(loaded.spec.env ?? {})
          .map(([k, v]) => `${k}=${pyStr(v)}`)
          .join(' '),
      ).toBe(c.env)
  })
})

describe('7. source_root without source_copy_mode: naming the loaded modules (--module)', () => {
  it('vector 16: naming app/wf.py gives the files flytekit had in sys.modules after `import app.wf`, so its tag', async () => {
    const v = loadVectors().vectors.find((x) => x.case_id.startsWith('16_'))!
    const cwd = materializeVector(v)
    const loaded = specFromObject(vectorInput(v.input), { cwd, env: {}, machine: 'x86_64' })
    const modules = resolveModuleFiles(loaded.spec.source_root!, ['proj/app/wf.py'], cwd)
    expect(modules.map((m) => path.relative(cwd, m))).toEqual([
      'proj/app/__init__.py',
      'proj/app/wf.py',
    ])
    expect(await computeTag(loaded, { loadedModules: modules })).toBe(v.tag)
  })

  it('follows import and from-import statements inside source_root, relative ones too, with parent packages', () => {
    const root = useTempDir('imagespec-modules-')
    const files: Record<string, string> = {
      'wf.py':
        'import os\nimport pkg.tasks as t, numpy\nfrom util import helper  # a module\nfrom pkg import (\n  models,\n  CONST,\n)\n',
      'util/__init__.py': '',
      'util/helper.py': 'from ..nowhere import x\n',
      'pkg/__init__.py': 'CONST = 1\n',
      'pkg/tasks.py': 'from . import shared\nfrom .sub.deep import f\n',
      'pkg/shared.py': '',
      'pkg/models.py': '',
      'pkg/sub/__init__.py': '',
      'pkg/sub/deep.py': 'def f(): pass\n',
      'unused.py': '',
    }
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true })
      writeFileSync(path.join(root, f), text)
    }
    expect(resolveModuleFiles(root, ['wf.py'], root).map((m) => path.relative(root, m))).toEqual([
      'pkg/__init__.py',
      'pkg/models.py',
      'pkg/shared.py',
      'pkg/sub/__init__.py',
      'pkg/sub/deep.py',
      'pkg/tasks.py',
      'util/__init__.py',
      'util/helper.py',
      'wf.py',
    ])
    expect(() => resolveModuleFiles(root, ['../x.py'], root)).toThrow(
      expect.objectContaining({ code: 'E_USAGE' }),
    )
  })
})
