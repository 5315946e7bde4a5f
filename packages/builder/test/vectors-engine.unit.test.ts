// Replays flytekit's engine path (ImageBuildEngine.build -> should_build -> build_image) for the vectors with a
// recording fake driver and a stubbed exist(): build_stdout, the docker build calls, build_warnings and
// build_error; and the exist_vectors decision table mapped onto the probe's exists / missing / unknown answers.
import path from 'node:path'
import { Readable } from 'node:stream'
import { loadVectors, materializeVector, vectorInput } from '@imagespec/test-utils'
import { describe, expect, it } from 'vitest'
import { parseSpecText, specFromObject, type BuilderEvent, type LoadedSpec } from '@imagespec/spec'
import { decide, existMessages } from '../src/_policy.js'
import { createEngine, resolveSettings, type ExistsAnswer } from '../src/index.js'
import { flytekitWarnings, recordingDriver } from './_fakes.js'

type Vector = ReturnType<typeof loadVectors>['vectors'][number]
const { vectors, exist_vectors } = loadVectors()

const STUB: Record<string, ExistsAnswer['status']> = {
  '33_engine_exists_skip': 'exists',
  '34_engine_force_push_env': 'exists',
  '35_engine_exist_unknown': 'unknown',
  '36_engine_exist_unknown_fast_fail': 'unknown',
}
/** Fields flytekit warns about although imagespec's default builder reads them, and its spurious cached `tag`. */
const NOT_UNSUPPORTED = new Set([
  'tag',
  'entrypoint',
  'pip_extra_args',
  'tag_format',
  'builder_options',
])

function expectedWarnings(v: Vector): string[] {
  const out: string[] = []
  for (const w of (v.build_warnings ?? []) as string[]) {
    const m = /^UserWarning: The following parameters are unsupported and ignored: \[(.*)\]$/.exec(
      w,
    )
    if (!m) {
      out.push(w)
      continue
    }
    const kept = m[1]
      .split(', ')
      .map((s) => s.slice(1, -1))
      .filter((f) => !NOT_UNSUPPORTED.has(f))
    if (kept.length)
      out.push(
        `UserWarning: The following parameters are unsupported and ignored: [${kept.map((k) => `'${k}'`).join(', ')}]`,
      )
  }
  return out
}

const engineVectors = vectors.filter((v) => v.build_stdout !== undefined)

describe('engine path vectors', () => {
  it('covers every vector with an engine run', () => {
    expect(engineVectors.length).toBeGreaterThanOrEqual(44)
  })

  it.each(engineVectors.map((v) => [v.case_id, v] as const))('%s', async (_id, v) => {
    const dir = materializeVector(v)
    const env = (v.env ?? {}) as Record<string, string>
    const input = v.input_yaml_text
      ? parseSpecText(v.input_yaml_text, 'imageSpec.yaml')
      : vectorInput(v.input)
    const loaded: LoadedSpec = specFromObject(input, {
      cwd: dir,
      env,
      machine: v.simulated_platform_machine ?? 'x86_64',
    })
    const driver = recordingDriver()
    const dockerfiles: string[] = []
    const engine = createEngine({
      exists: async () => ({ status: STUB[v.case_id] ?? 'missing', reason: 'stubbed' }),
      defaultBuilder: {
        driver: async () => driver,
        packContext: (plan) => (dockerfiles.push(plan.dockerfile), Readable.from([])),
        auth: async () => undefined,
      },
      lockDir: path.join(dir, '..', '.locks'),
    })
    const settings = resolveSettings(env)
    settings.render = {
      flytekitVersion: v.flytekit___version__ ?? '1.16.24',
      defaultPythonVersion: '3.11',
      compat: v.case_id === '11_cuda' ? 'flytekit' : 'imagespec',
      loadedModules: (v.import_modules_from_cwd ?? []).length
        ? [path.join(dir, 'proj/app/__init__.py'), path.join(dir, 'proj/app/wf.py')]
        : [],
    }
    const events: BuilderEvent[] = []
    let error: unknown
    try {
      await engine.build(loaded, { settings, env, onEvent: (e) => events.push(e) })
    } catch (e) {
      error = e
    }
    const notices = events.filter((e) => e.type === 'notice')
    // exist() is stubbed in the vectors, so its own "Failed to check…" line is not part of build_stdout.
    const stdout = notices
      .filter((e) => e.level !== 'warn' && !e.text.startsWith('Failed to check'))
      .map((e) => `${e.text}\n`)
      .join('')
    expect(stdout).toBe((v.build_stdout as string).replaceAll('<CONTEXT_DIR>', '-'))
    expect(
      flytekitWarnings(
        v.case_id,
        notices.filter((e) => e.level === 'warn').map((e) => `UserWarning: ${e.text}`),
      ),
    ).toEqual(expectedWarnings(v))
    expect(driver.builds.map((b) => b.tags[0])).toEqual(
      ((v.build_docker_invocations ?? []) as { argv: string[] }[]).map(
        (i) => i.argv[i.argv.indexOf('--tag') + 1],
      ),
    )
    // Each Dockerfile's FROM lines and _F_IMG_ID line (vector 23: the id hashes the nested base spec's dict).
    const invocations = (v.build_docker_invocations ?? []) as {
      dockerfile_FROM_lines: string[]
      dockerfile_F_IMG_ID_line: string[]
    }[]
    expect(
      dockerfiles.map((d) => d.split('\n').filter((l) => l.startsWith('ENV _F_IMG_ID='))),
    ).toEqual(invocations.map((i) => i.dockerfile_F_IMG_ID_line))
    expect(dockerfiles.map((d) => d.split('\n').filter((l) => l.startsWith('FROM ')))).toEqual(
      invocations.map((i) => i.dockerfile_FROM_lines),
    )
    if (v.build_error) expect((error as Error)?.message).toBe(v.build_error.message)
    else expect(error).toBeUndefined()
    // flytekit builds with --push exactly when the spec has a registry and pushing is on.
    const pushed = ((v.build_docker_invocations ?? []) as { argv: string[] }[]).filter((i) =>
      i.argv.includes('--push'),
    )
    expect(driver.pushes).toEqual(pushed.map((i) => i.argv[i.argv.indexOf('--tag') + 1]))
  })
})

describe('exist vectors: the should-build decision over the probe answer', () => {
  // docker-py specifics (an old client's URL scheme) have no counterpart in a daemonless probe.
  const applicable = exist_vectors.filter((x) => x.exist_error === undefined)
  it.each(applicable.map((x) => [x.scenario, x] as const))('%s', (_s, x) => {
    const status =
      x.exist_result === true ? 'exists' : x.exist_result === false ? 'missing' : 'unknown'
    const answer: ExistsAnswer = { status, reason: 'conn refused' }
    const d = decide(x.image_name, answer, { force: false, fastFail: false })
    expect(d.build).toBe(x.exist_result === false)
    expect(existMessages(answer).length).toBe(x.exist_result === null ? 1 : 0)
    if (x.exist_result === null)
      expect(x.stdout).toMatch(/^Failed to check if the image exists with error:\n /)
  })
  it('routes to the registry when a registry is set, else to the local image store (as docker_calls show)', () => {
    for (const x of applicable) {
      const viaRegistry = x.docker_calls[0][0] === 'images.get_registry_data'
      expect(viaRegistry).toBe(Boolean(x.input.registry))
    }
  })
})
