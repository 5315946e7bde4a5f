import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isImagespecError } from './errors.js'
import type { ImagespecError } from './errors.js'
import { normalizeSpec, specFromObject, str2bool } from './normalize.js'
import { imageSpecJsonSchema, isValidRegistry, parseCopyMode } from './schema.js'
import { computeId } from './identity.js'
import { PyFloat } from './types.js'

function errorOf(input: unknown): ImagespecError {
  try {
    normalizeSpec(input, { machine: 'x86_64' })
  } catch (e) {
    if (isImagespecError(e)) return e
    throw e
  }
  throw new Error('expected an error')
}

describe('registry validation (flytekit test_registry_name)', () => {
  it.each([
    'localhost:30000',
    'localhost:30000/flyte',
    '192.168.1.1:30000',
    '192.168.1.1:30000/myimage',
    'ghcr.io/flyteorg',
    'my.registry.com/myimage',
    'my.registry.com:5000/myimage',
    'myregistry:5000/myimage',
    'us-west1-docker.pkg.dev/example.com/my-project/my-repoflyteorg',
    'ghcr.io/org\n',
  ])('accepts %j', (r) => expect(isValidRegistry(r)).toBe(true))

  it.each([
    'invalid:port:50000',
    'ghcr.io/flyteorg:latest',
    'flyteorg:latest',
    'localhost:123456',
    'a b',
  ])('rejects %j', (r) => expect(isValidRegistry(r)).toBe(false))

  it("lower-cases before validating and reports flytekit's text", () => {
    expect(normalizeSpec({ registry: 'GHCR.io/Org' }).registry).toBe('ghcr.io/org')
    const e = errorOf({ registry: 'GHCR.io/Org:Latest' })
    expect(e.message).toBe(
      "Invalid container registry name: 'ghcr.io/org:latest'.\n Expected formats:\n- 'localhost:30000' (for local registries)\n" +
        "- 'ghcr.io/username' (for GitHub Container Registry)\n- 'docker.io/username' (for docker hub)\n",
    )
    expect(e.details).toEqual(["registry: Invalid container registry name: 'ghcr.io/org:latest'."])
    expect(e.field).toBe('registry')
    expect(normalizeSpec({ registry: '' }).registry).toBe('')
  })
})

describe('normalizeSpec defaults', () => {
  it('fills flytekit defaults', () => {
    const s = normalizeSpec({ name: 'My-Image' }, { machine: 'x86_64' })
    expect(s).toMatchObject({
      name: 'my-image',
      platform: 'linux/amd64',
      builder: 'default',
      source_copy_mode: null,
    })
    expect(Object.keys(s)).toHaveLength(29)
  })

  it('defaults the platform to arm64 only for localhost registries on arm hosts', () => {
    expect(normalizeSpec({ registry: 'localhost:5000' }, { machine: 'aarch64' }).platform).toBe(
      'linux/arm64',
    )
    expect(normalizeSpec({ registry: 'localhost:5000' }, { machine: 'ARM64' }).platform).toBe(
      'linux/arm64',
    )
    expect(normalizeSpec({ registry: 'ghcr.io/x' }, { machine: 'arm64' }).platform).toBe(
      'linux/amd64',
    )
    expect(normalizeSpec({ registry: 'localhost:5000' }, { machine: 'x86_64' }).platform).toBe(
      'linux/amd64',
    )
    expect(normalizeSpec({ platform: 'linux/s390x' }, { machine: 'arm64' }).platform).toBe(
      'linux/s390x',
    )
  })

  it('sets LOADED_MODULES when source_root is set and takes the default builder from options', () => {
    expect(normalizeSpec({ source_root: '/tmp' }).source_copy_mode).toBe('LOADED_MODULES')
    expect(normalizeSpec({ source_root: '/tmp', source_copy_mode: 'all' }).source_copy_mode).toBe(
      'ALL',
    )
    expect(normalizeSpec({}, { defaultBuilder: 'envd' }).builder).toBe('envd')
    expect(normalizeSpec({}, { defaultBuilder: null }).builder).toBe(null)
    expect(normalizeSpec({ builder: 'noop' }, { defaultBuilder: 'envd' }).builder).toBe('noop')
  })

  it('accepts every spelling of source_copy_mode', () => {
    for (const [v, mode] of [
      ['auto', 'LOADED_MODULES'],
      ['AUTO', 'LOADED_MODULES'],
      ['LOADED_MODULES', 'LOADED_MODULES'],
      ['all', 'ALL'],
      ['CopyFileDetection.ALL', 'ALL'],
      ['no_copy', 'NO_COPY'],
      ['NO_COPY', 'NO_COPY'],
      ['none', 'NO_COPY'],
    ])
      expect(parseCopyMode(v)).toBe(mode)
    expect(errorOf({ source_copy_mode: 'some' }).message).toBe(
      "source_copy_mode must be one of auto, all, no_copy (got 'some')",
    )
  })

  it('keeps python_version numbers and PyFloats as given', () => {
    expect(normalizeSpec({ python_version: new PyFloat(3.1) }).python_version).toEqual(
      new PyFloat(3.1),
    )
    expect(normalizeSpec({ python_version: 3 }).python_version).toBe(3)
  })

  it('normalizes a nested base spec recursively', () => {
    const s = normalizeSpec(
      { base_image: { name: 'Base', registry: 'localhost:5000' } },
      { machine: 'arm64' },
    )
    expect(s.base_image).toMatchObject({
      name: 'base',
      platform: 'linux/arm64',
      builder: 'default',
    })
  })
})

describe('validation errors', () => {
  it.each([
    'packages',
    'conda_channels',
    'conda_packages',
    'apt_packages',
    'pip_extra_index_url',
    'entrypoint',
    'commands',
    'runtime_packages',
  ])('%s must be a list of strings', (field) => {
    expect(errorOf({ [field]: 'requirements.txt' }).message).toBe(
      `${field} must be a list of strings or None`,
    )
    expect(errorOf({ [field]: [1, 2, 3] }).message).toBe(
      `${field} must be a list of strings or None`,
    )
  })

  it("checks pip_secret_mounts and builder_options with flytekit's text", () => {
    const secrets = 'pip_secret_mounts must be a list of tuples of two strings or None'
    expect(errorOf({ pip_secret_mounts: 'secrets.txt' }).message).toBe(secrets)
    expect(errorOf({ pip_secret_mounts: [['a', 'b', 'c']] }).message).toBe(secrets)
    expect(normalizeSpec({ pip_secret_mounts: [['a', 'b']] }).pip_secret_mounts).toEqual([
      ['a', 'b'],
    ])
    expect(errorOf({ builder_options: 'x' }).message).toBe(
      'builder_options must be a dictionary or None',
    )
    expect(errorOf({ builder_options: ['x'] }).message).toBe(
      'builder_options must be a dictionary or None',
    )
  })

  it("reports the first problem in flytekit's order and one line per problem", () => {
    const e = errorOf({
      builder_options: [],
      commands: 'x',
      packages: 'y',
      registry: 'A:B:C',
      pip_secret_mounts: 1,
      cuda: 12,
      bogus: 1,
    })
    expect(e.code).toBe('E_SPEC_INVALID')
    expect(e.message).toBe("ImageSpec.__init__() got an unexpected keyword argument 'bogus'")
    expect(e.details).toEqual([
      "bogus: ImageSpec.__init__() got an unexpected keyword argument 'bogus'",
      "registry: Invalid container registry name: 'a:b:c'.",
      'packages: packages must be a list of strings or None',
      'commands: commands must be a list of strings or None',
      'pip_secret_mounts: pip_secret_mounts must be a list of tuples of two strings or None',
      'builder_options: builder_options must be a dictionary or None',
      'cuda: cuda must be a string or None',
    ])
  })

  it('reports problems of a nested base spec first, with their path', () => {
    const e = errorOf({ packages: 'x', base_image: { apt_packages: 'git', extra: 1 } })
    expect(e.message).toBe("ImageSpec.__init__() got an unexpected keyword argument 'extra'")
    expect(e.details).toEqual([
      "base_image.extra: ImageSpec.__init__() got an unexpected keyword argument 'extra'",
      'base_image.apt_packages: apt_packages must be a list of strings or None',
      'packages: packages must be a list of strings or None',
    ])
    expect(errorOf({ base_image: 5 }).message).toBe(
      'base_image must be a string, an ImageSpec mapping or None',
    )
  })

  it('rejects a non-mapping', () => {
    expect(errorOf([1]).message).toBe('An ImageSpec must be a mapping of field names to values')
    expect(errorOf({ name: null }).message).toBe('name must be a string')
    expect(errorOf({ env: 'A=1' }).message).toBe('env must be a dictionary or None')
    expect(errorOf({ env: { A: [1] } }).message).toBe(
      'env values must be strings, numbers, booleans or None (not lists or mappings)',
    )
  })
})

describe('robustness', () => {
  it('either normalizes or throws E_SPEC_INVALID, for any input', () => {
    const field = fc.constantFrom(
      'name',
      'registry',
      'packages',
      'env',
      'base_image',
      'pip_secret_mounts',
      'source_copy_mode',
      'x',
    )
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.dictionary(field, fc.anything())), (input) => {
        try {
          normalizeSpec(input)
        } catch (e) {
          expect(isImagespecError(e) && e.code).toBe('E_SPEC_INVALID')
        }
      }),
    )
  })
})

describe('flags from the environment', () => {
  it('uses flytekit str2bool', () => {
    for (const v of ['false', 'FALSE', '0', 'off', 'No']) expect(str2bool(v)).toBe(false)
    for (const v of ['', 'true', 'yes', '2', '1']) expect(str2bool(v)).toBe(true)
    // unset is false; set but empty is true (flytekit: `if value is None: return False`)
    expect(str2bool(undefined)).toBe(false)
    const loaded = specFromObject(
      {},
      { cwd: '/x', env: { FLYTE_FORCE_PUSH_IMAGE_SPEC: '', FLYTE_IMG_FAST_FAIL: 'off' } },
    )
    expect(loaded).toMatchObject({ cwd: '/x', forcePush: true, fastFail: false })
    expect(specFromObject({}, { cwd: '/x', env: {} })).toMatchObject({
      forcePush: false,
      fastFail: false,
    })
  })
})

describe('schema.json', () => {
  it('is up to date (run `pnpm gen:schema`)', () => {
    const committed = readFileSync(new URL('../schema.json', import.meta.url), 'utf8')
    expect(committed).toBe(`${JSON.stringify(imageSpecJsonSchema(), null, 2)}\n`)
  })

  it('describes every field and rejects unknown keys', () => {
    const s = imageSpecJsonSchema() as {
      properties: Record<string, { description?: string }>
      additionalProperties: boolean
    }
    expect(Object.keys(s.properties)).toHaveLength(30) // flytekit's 29 and $schema
    for (const [k, v] of Object.entries(s.properties)) expect(v.description, k).toBeTruthy()
    expect(s.additionalProperties).toBe(false)
  })

  it("offers flytekit's copy modes as an enum, each of which the schema accepts", () => {
    const s = imageSpecJsonSchema() as {
      properties: Record<string, { anyOf: { enum?: string[] }[] }>
    }
    const modes = s.properties.source_copy_mode.anyOf[0].enum!
    expect(modes).toEqual(
      expect.arrayContaining(['auto', 'all', 'no_copy', 'LOADED_MODULES', 'CopyFileDetection.ALL']),
    )
    for (const m of modes) expect(parseCopyMode(m), m).toBeDefined()
  })

  it('is exported as @imagespec/spec/schema.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    expect(pkg.exports['./schema.json']).toBe('./schema.json')
    expect(pkg.files).toContain('schema.json')
    expect(createRequire(import.meta.url).resolve('@imagespec/spec/schema.json')).toBe(
      fileURLToPath(new URL('../schema.json', import.meta.url)),
    )
  })
})

describe('$schema', () => {
  it('is accepted at the top level and never hashed', () => {
    const plain = specFromObject({ name: 'app', packages: ['a'] }, { cwd: '/x', env: {} })
    const withSchema = specFromObject(
      { $schema: 'https://imagespec.dev/schema.json', name: 'app', packages: ['a'] },
      { cwd: '/x', env: {} },
    )
    expect(withSchema.spec).toEqual(plain.spec)
    expect(computeId(withSchema.spec)).toBe(computeId(plain.spec))
    expect('$schema' in withSchema.spec).toBe(false)
  })

  it('must be a string', () => {
    expect(() => specFromObject({ $schema: 3 }, { cwd: '/x', env: {} })).toThrow(
      '$schema must be a string',
    )
  })
})
