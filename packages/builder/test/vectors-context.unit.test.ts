// Replays flytekit's create_docker_context for the 50 vectors: Dockerfile byte for byte (except the divergences
// listed in docs/compat.md, asserted explicitly), context files and contents, warnings, errors and the files left
// behind when an error fires.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadVectors, materializeVector, vectorInput } from '@imagespec/test-utils'
import { afterAll, describe, expect, it } from 'vitest'
import { isImagespecError, parseSpecText, specFromObject, type LoadedSpec } from '@imagespec/spec'
import { createContextPlan, createDockerContext, type ContextSettings } from '../src/context.js'
import { flytekitWarnings } from './_fakes.js'

type Vector = ReturnType<typeof loadVectors>['vectors'][number]
const { vectors } = loadVectors()
const scratch = mkdtempSync(path.join(tmpdir(), 'imagespec-ctx-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function construct(v: Vector, dir: string): LoadedSpec {
  const input = v.input_yaml_text
    ? parseSpecText(v.input_yaml_text, 'imageSpec.yaml')
    : vectorInput(v.input)
  const loaded = specFromObject(input, {
    cwd: dir,
    env: v.env ?? {},
    machine: v.simulated_platform_machine ?? 'x86_64',
  })
  // Vectors 23/23b: the engine hands create_docker_context the base spec's image name.
  return v.note_base_image_resolved_to
    ? { ...loaded, spec: { ...loaded.spec, base_image: v.note_base_image_resolved_to } }
    : loaded
}

function settingsFor(v: Vector, dir: string, warnings: string[]): Partial<ContextSettings> {
  return {
    flytekitVersion: v.flytekit___version__ ?? '1.16.24',
    defaultPythonVersion: '3.11',
    compat: v.case_id === '11_cuda' ? 'flytekit' : 'imagespec',
    onWarning: (m) => warnings.push(`UserWarning: ${m}`),
    loadedModules:
      (v.import_modules_from_cwd ?? []).length > 0
        ? [path.join(dir, 'proj/app/__init__.py'), path.join(dir, 'proj/app/wf.py')]
        : [],
  }
}

/** The vectors' listing: sorted relative paths, an empty directory as `<dir>/ (empty dir)`. */
function listContext(dir: string): string[] {
  const out: string[] = []
  const walk = (rel: string) => {
    const names = readdirSync(path.join(dir, rel))
    if (names.length === 0 && rel) out.push(`${rel}/ (empty dir)`)
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n
      if (statSync(path.join(dir, r)).isDirectory()) walk(r)
      else out.push(r)
    }
  }
  walk('')
  return out.sort()
}

const contents = (dir: string, files: string[]) =>
  Object.fromEntries(
    files
      .filter((f) => f !== 'Dockerfile' && !f.endsWith('(empty dir)'))
      .map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]),
  )

/** Intentional divergences (docs/compat.md): flytekit's Dockerfile -> ours. */
const DOCKERFILE_DIVERGENCES: Record<string, (flytekit: string) => string> = {
  '08_env_commands_entrypoint': (d) => d.replace('SPACED=two words', 'SPACED="two words"'),
  '25_repr_quoting': (d) => d.replace('TAB=a\tb', 'TAB="a\tb"'),
}
const byId = (id: string) => vectors.find((v) => v.case_id === id)!

/** The normalisation: join `\` continuations, collapse whitespace, drop blank and comment lines (not #syntax). */
export function normalizeDockerfile(text: string): string {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l !== '' && (!l.startsWith('#') || l.startsWith('#syntax=')))
    .join('\n')
}

const contextVectors = vectors.filter(
  (v) => v.dockerfile !== undefined || v.create_docker_context_error !== undefined,
)

describe('create_docker_context vectors', () => {
  it('covers every vector that reaches create_docker_context', () => {
    expect(contextVectors.length).toBe(46)
  })

  it.each(contextVectors.map((v) => [v.case_id, v] as const))('%s', async (caseId, v) => {
    const dir = materializeVector(v)
    const loaded = construct(v, dir)
    const out = path.join(scratch, caseId)
    const warnings: string[] = []
    const settings = settingsFor(v, dir, warnings)

    if (v.create_docker_context_error) {
      const err = await createDockerContext(loaded, out, settings).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isImagespecError(err)).toBe(true)
      expect((err as Error).message).toBe(v.create_docker_context_error.message)
      expect(listContext(out)).toEqual(v.context_files_at_error)
      expect(warnings).toEqual(v.create_docker_context_warnings)
      await expect(createContextPlan(loaded, settings)).rejects.toThrow(
        v.create_docker_context_error.message,
      )
      return
    }

    const plan = await createDockerContext(loaded, out, settings)
    expect(flytekitWarnings(caseId, warnings)).toEqual(v.create_docker_context_warnings)
    expect(
      flytekitWarnings(
        caseId,
        plan.warnings.map((w) => `UserWarning: ${w}`),
      ),
    ).toEqual(v.create_docker_context_warnings)
    const expected = (DOCKERFILE_DIVERGENCES[caseId] ?? ((d: string) => d))(v.dockerfile)
    expect(plan.dockerfile).toBe(expected)
    expect(readFileSync(path.join(out, 'Dockerfile'), 'utf8')).toBe(expected)
    // 13b: imagespec applies the ignore rules to a relative source_root too, so its context is vector 13's.
    const reference =
      caseId === '13b_source_root_all_git_relative_root' ? byId('13_source_root_all_git') : v
    const files = listContext(out)
    expect(files).toEqual(reference.context_files)
    expect(contents(out, files)).toEqual(reference.context_file_contents)
    expect(plan.secrets).toEqual(
      (v.input.pip_secret_mounts ?? []).map(([src]: string[], i: number) => ({
        id: `secret_${i}`,
        src,
      })),
    )
    // createContextPlan gives the same Dockerfile without writing anything.
    expect((await createContextPlan(loaded, settings)).dockerfile).toBe(plan.dockerfile)
  })
})

describe('documented divergences (docs/compat.md)', () => {
  it('08 and 25: env values with whitespace are quoted; normalised text differs only there', () => {
    for (const id of Object.keys(DOCKERFILE_DIVERGENCES)) {
      const v = byId(id)
      expect(DOCKERFILE_DIVERGENCES[id](v.dockerfile)).not.toBe(v.dockerfile)
    }
  })

  it('11: cuda/cudnn select an NVIDIA base image unless compat is flytekit; a pair NVIDIA does not publish is refused', async () => {
    const v = byId('11_cuda')
    // The vector's cuda 12.4.1 + cudnn 8: NVIDIA publishes 12.4.1 only with cuDNN 9 (`12.4.1-cudnn-runtime-...`).
    await expect(
      createContextPlan(construct(v, materializeVector(v)), {
        ...settingsFor(v, '', []),
        compat: 'imagespec',
      }),
    ).rejects.toMatchObject({
      code: 'E_SPEC_INVALID',
      message: 'cudnn: NVIDIA publishes no cuDNN 8 image for cuda "12.4.1"',
    })
    const cudnn9 = { ...v, input: { ...(v.input as object), cudnn: '9' } } as typeof v
    const plan = await createContextPlan(construct(cudnn9, materializeVector(cudnn9)), {
      ...settingsFor(cudnn9, '', []),
      compat: 'imagespec',
    })
    expect(plan.dockerfile).toContain('\nFROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04\n')
  })

  it('13b: the relative source_root differs from flytekit (ignore rules applied)', () => {
    expect(byId('13b_source_root_all_git_relative_root').context_files).not.toEqual(
      byId('13_source_root_all_git').context_files,
    )
  })

  it('every other vector Dockerfile is byte-identical, so normalised-equal too', () => {
    const v = byId('42_kitchen_sink')
    expect(normalizeDockerfile(v.dockerfile)).toContain(
      '#syntax=docker/dockerfile:1.5\nFROM uv_image_local as uv',
    )
  })
})
