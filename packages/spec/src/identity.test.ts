import { describe, expect, it } from 'vitest'
import { computeId, computeTag, describeIdentity, idPreimage, imageName } from './identity.js'
import { specFromObject } from './normalize.js'

const load = (input: Record<string, unknown>) =>
  specFromObject(input, { cwd: '/nonexistent', machine: 'x86_64', env: {} })

describe('identity', () => {
  it('computes vector 01 (ImageSpec())', async () => {
    const loaded = load({})
    expect(idPreimage(loaded.spec)).toBe("{'name': 'flytekit', 'platform': 'linux/amd64'}")
    expect(computeId(loaded.spec)).toBe('fv8aVGdGU6GT1t5W98ZQPA')
    expect(await imageName(loaded)).toBe('flytekit:fv8aVGdGU6GT1t5W98ZQPA')
  })

  it('drops registry_config from the tag but not from the id', async () => {
    const a = await describeIdentity(load({ name: 'x' }))
    const b = await describeIdentity(load({ name: 'x', registry_config: 'cfg.json' }))
    expect(b.tag).toBe(a.tag)
    expect(b.id).not.toBe(a.id)
    expect(b.idPreimage).toContain("'registry_config': 'cfg.json'")
  })

  it('applies tag_format with Python semantics and rejects other fields clearly', async () => {
    expect(
      await computeTag(
        load({ name: 'my_image', python_version: '3.11', tag_format: '{spec_hash}-dev' }),
      ),
    ).toBe('C1ehKmkCvU6Flaum2jGBiw-dev')
    expect(
      await computeTag(
        load({ name: 'my_image', python_version: '3.11', tag_format: '{spec_hash:.8}' }),
      ),
    ).toMatch(/^\w{8}$/)
    await expect(computeTag(load({ tag_format: '{version}' }))).rejects.toMatchObject({
      code: 'E_SPEC_INVALID',
      field: 'tag_format',
      message: 'Invalid tag_format "{version}": KeyError: \'version\'',
    })
  })

  it('uses the engine name map for nested base images and the result', async () => {
    const loaded = load({
      name: 'final',
      base_image: { name: 'base', registry: 'localhost:30000' },
    })
    const resolveImageName = (n: string) =>
      n.startsWith('localhost:30000/base:') ? 'mirror/base:1' : n
    const d = await describeIdentity(loaded, { resolveImageName })
    expect(d.tagPreimage).toContain("'base_image': 'mirror/base:1'")
    expect(d.idPreimage).toContain(
      "'base_image': {'name': 'base', 'registry': 'localhost:30000', 'platform': 'linux/amd64'}",
    )
    expect(await imageName(loaded, { resolveImageName: () => 'fqn.xyz/flytekit' })).toBe(
      'fqn.xyz/flytekit',
    )
  })

  it('fails like flytekit when a copy mode has no source_root (vector 41)', async () => {
    await expect(computeTag(load({ name: 'nosrc', source_copy_mode: 'ALL' }))).rejects.toThrow(
      'Field source_root for image spec nosrc must be set when copy is set',
    )
    expect(await computeTag(load({ name: 'nosrc', source_copy_mode: 'NO_COPY' }))).toMatch(
      /^\w{22}$/,
    )
  })
})
