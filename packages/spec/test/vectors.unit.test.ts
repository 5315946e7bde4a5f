// Replays flytekit's 50 ImageSpec vectors: construction, normalization, id, tag and image name.
import path from 'node:path'
import { loadVectors, materializeVector, vectorInput } from '@imagespec/test-utils'
import { describe, expect, it } from 'vitest'
import {
  PyFloat,
  describeIdentity,
  isImagespecError,
  listSourceFiles,
  parseSpecText,
  specFromObject,
} from '../src/index.js'
import type { ImageSpec, LoadedSpec } from '../src/index.js'

const { vectors } = loadVectors()

/** Our normalized spec -> the shape of `spec_after_post_init`. */
function toVectorShape(
  spec: ImageSpec,
  flags: { forcePush: boolean; fastFail: boolean },
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(spec)) {
    if (k === 'source_copy_mode') out[k] = v === null ? null : `CopyFileDetection.${v}`
    else if (k === 'base_image' && v && typeof v === 'object')
      out[k] = { __imagespec__: toVectorShape(v as ImageSpec, flags) }
    else if (v instanceof PyFloat) out[k] = v.value
    else out[k] = v
  }
  return { ...out, _is_force_push: flags.forcePush, _fast_fail: flags.fastFail }
}

function construct(v: (typeof vectors)[number], dir: string): LoadedSpec {
  const input = v.input_yaml_text
    ? parseSpecText(v.input_yaml_text, 'imageSpec.yaml')
    : vectorInput(v.input)
  return specFromObject(input, {
    cwd: dir,
    env: v.env ?? {},
    machine: v.simulated_platform_machine ?? 'x86_64',
  })
}

function loadedModules(v: (typeof vectors)[number], dir: string): string[] {
  // Vector 16 imports `app.wf`: sys.modules then holds app/__init__.py and app/wf.py under proj/.
  return (v.import_modules_from_cwd ?? []).length > 0
    ? [path.join(dir, 'proj/app/__init__.py'), path.join(dir, 'proj/app/wf.py')]
    : []
}

const reproduced = new Set<string>()

describe('flytekit vectors', () => {
  it('has all 50 vectors', () => {
    expect(vectors).toHaveLength(50)
  })

  it.each(vectors.map((v) => [v.case_id, v] as const))('%s', async (caseId, v) => {
    const dir = materializeVector(v)
    if (v.construct_error) {
      let err: unknown
      try {
        construct(v, dir)
      } catch (e) {
        err = e
      }
      expect(isImagespecError(err) && err.code).toBe('E_SPEC_INVALID')
      expect((err as Error).message).toBe(v.construct_error.message)
      reproduced.add(caseId)
      return
    }
    const loaded = construct(v, dir)
    expect(toVectorShape(loaded.spec, loaded)).toEqual(v.spec_after_post_init)
    const opts = { loadedModules: loadedModules(v, dir) }
    if (v.tag_error) {
      await expect(describeIdentity(loaded, opts)).rejects.toThrow(v.tag_error.message)
      reproduced.add(caseId)
      return
    }
    const d = await describeIdentity(loaded, opts)
    expect(d.idPreimage).toBe(v.id_preimage)
    expect(d.id).toBe(v.spec_id)
    expect(d.hashCalls.map((c) => [c.algo, c.resultHex])).toEqual(
      v.tag_hash_calls.map((c: { algo: string; result_hex: string }) => [c.algo, c.result_hex]),
    )
    expect(v.tag_hash_calls.at(-1).chunks).toEqual([d.tagPreimage])
    expect(d.tagPreimage).toBe(v.tag_preimage)
    expect(d.tag).toBe(v.tag)
    expect(d.imageName).toBe(v.image_name)
    reproduced.add(caseId)
  })

  it('lists the source files whose paths flytekit hashed (ALL and LOADED_MODULES)', async () => {
    for (const v of vectors.filter(
      (x) => x.case_id.startsWith('13') || x.case_id.startsWith('14') || x.case_id.startsWith('16'),
    )) {
      const dir = materializeVector(v)
      const loaded = construct(v, dir)
      const root = path.resolve(dir, loaded.spec.source_root!)
      const relative = !path.isAbsolute(loaded.spec.source_root!)
      const { files, digest } = await listSourceFiles(root, loaded.spec.source_copy_mode!, {
        loadedModules: loadedModules(v, dir),
        relativeRootQuirk: relative ? loaded.spec.source_root! : undefined,
      })
      expect(digest).toBe(v.tag_hash_calls[0].result_hex)
      const pathChunks = v.tag_hash_calls[0].chunks.filter((c: string) =>
        files.map((f) => f.replaceAll('/', '')).includes(c),
      )
      expect(pathChunks).toEqual(files.map((f) => f.replaceAll('/', '')))
    }
  })

  it('applies the ignore rules properly to a relative root when the quirk is off (context listing)', async () => {
    const v13 = vectors.find((x) => x.case_id.startsWith('13_'))!
    const v13b = vectors.find((x) => x.case_id.startsWith('13b'))!
    const a = await listSourceFiles(path.join(materializeVector(v13), 'proj'), 'ALL')
    const b = await listSourceFiles(path.join(materializeVector(v13b), 'proj'), 'ALL')
    expect(b).toEqual(a)
    expect(a.files).toEqual([
      '.dockerignore',
      '.gitignore',
      'data/z.csv',
      'main.py',
      'pkg/__init__.py',
      'pkg/util.py',
      'secrets/keep.txt',
    ])
  })

  it('reproduces all 50 (score)', () => {
    expect([...reproduced].sort()).toEqual(vectors.map((v) => v.case_id).sort())
  })
})
