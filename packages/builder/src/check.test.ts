// checkSpec runs the tag and the build context side by side (render --out): the same answers as one after the other.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { computeTag, specFromObject } from '@imagespec/spec'
import { checkSpec } from './check.js'

const dir = mkdtempSync(path.join(tmpdir(), 'imagespec-check-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
mkdirSync(path.join(dir, 'src/pkg'), { recursive: true })
for (let i = 0; i < 600; i++) writeFileSync(path.join(dir, `src/pkg/m${i}.py`), `x = ${i}\n`)
const load = (input: Record<string, unknown>) =>
  specFromObject(
    { name: 'chk', python_version: '3.11', source_root: 'src', source_copy_mode: 'ALL', ...input },
    { cwd: dir, env: {}, machine: 'x86_64' },
  )

describe('checkSpec', () => {
  it("writes the context while the tag is hashed: flytekit's tag, every source file", async () => {
    const out = path.join(dir, 'out')
    const loaded = load({})
    const check = await checkSpec(loaded, {}, { out })
    expect(check.imageName).toBe(`chk:${await computeTag(loaded)}`)
    expect(readFileSync(path.join(out, 'src/pkg/m599.py'), 'utf8')).toBe('x = 599\n')
    expect(readFileSync(path.join(out, 'Dockerfile'), 'utf8')).toBe(check.plan.dockerfile)
  })

  it("throws the tag's error when the tag and the context both fail, as when the tag ran first", async () => {
    // tag_format fails the tag after its digests; the missing copy entry fails the context (the tag skips it)
    const out = path.join(dir, 'both')
    await expect(
      checkSpec(load({ tag_format: '{nope}', copy: ['missing.txt'] }), {}, { out }),
    ).rejects.toMatchObject({ code: 'E_SPEC_INVALID', field: 'tag_format' })
    await expect(checkSpec(load({ copy: ['missing.txt'] }), {}, { out })).rejects.toMatchObject({
      code: 'E_CONTEXT',
      message: 'copy[0]: "missing.txt" does not exist',
    })
    // the sources placed before the failing copy entry stay, as in flytekit's create_docker_context
    expect(existsSync(path.join(out, 'src/pkg/m0.py'))).toBe(true)
  })
})
