// Random specs, hostile strings included, through normalize + createContextPlan: only ImagespecErrors, and the
// Dockerfile holds exactly the instructions the spec's features ask for (nothing injected, nothing swallowed).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import {
  isImagespecError,
  specFromObject,
  type BuildContextPlan,
  type ImageSpec,
  type LoadedSpec,
} from '@imagespec/spec'
import { isFlytekit } from '@imagespec/installers'
import { createContextPlan } from './context.js'

const cwd = useTempDir('ctxfuzz-')
// A fixed seed, so that CI is repeatable (fast-check prints the seed and path of a failure);
// IMAGESPEC_FUZZ_SEED runs other specs, as in the CLI's fuzz test.
const seed = Number(process.env.IMAGESPEC_FUZZ_SEED ?? 20261202)

// Pieces that only need quoting (accepted), and pieces that would break out of an instruction (refused).
const quotable = fc.constantFrom(
  '"',
  "'",
  ' ',
  '$HOME',
  '${X}',
  '&&',
  ';',
  '|',
  '#',
  ' # x',
  'é',
  '😀',
  '\t',
  '[',
  ']',
  ',',
  '=',
  'FROM evil',
  '--mount=type=bind,target=/x',
)
const breaking = fc.constantFrom(
  '\n',
  '\r\n',
  '\r',
  '\u2028',
  '\u0085',
  '\v',
  '\\\n',
  '<<EOF',
  '<<-"X"',
  '\\',
)
const word = fc.constantFrom('numpy', '3.11', 'x', 'a-b')
const join = (...pieces: fc.Arbitrary<string>[]) =>
  fc.array(fc.oneof(...pieces), { minLength: 1, maxLength: 4 }).map((p) => p.join(''))
const hostile = fc.oneof(
  { arbitrary: join(word, quotable), weight: 6 },
  { arbitrary: join(word, quotable, breaking, fc.string({ maxLength: 4 })), weight: 1 },
)
const mostly = <T>(usual: fc.Arbitrary<T>) =>
  fc.oneof(
    { arbitrary: usual, weight: 5 },
    { arbitrary: hostile as fc.Arbitrary<T | string>, weight: 1 },
  )
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
const list = maybe(fc.array(hostile, { maxLength: 3 }))

const specInput = fc.record(
  {
    name: fc.constantFrom('fuzz', 'a-b'),
    python_version: maybe(fc.oneof(hostile, fc.constantFrom('3.11', '3.12'))),
    env: maybe(
      fc.dictionary(mostly(fc.constantFrom('PATH', 'A_B', 'PYTHONPATH', 'x.y')), hostile, {
        maxKeys: 3,
      }),
    ),
    packages: list,
    apt_packages: list,
    conda_packages: list,
    conda_channels: list,
    commands: list,
    entrypoint: list,
    python_exec: maybe(mostly(fc.constant('/usr/bin/python3'))),
    pip_index: maybe(hostile),
    pip_extra_index_url: list,
    pip_extra_args: maybe(hostile),
    pip_secret_mounts: maybe(
      fc.array(fc.tuple(mostly(fc.constant('netrc')), mostly(fc.constant('/root/.netrc'))), {
        maxLength: 2,
      }),
    ),
    base_image: maybe(mostly(fc.constant('debian:bookworm'))),
    builder_options: maybe(
      fc.constantFrom({ installer: 'pip' }, { installer: 'uv' }, { other: 1 }),
    ),
  },
  { requiredKeys: ['name'] },
)

/** Docker's reading of a Dockerfile: `\` continuations joined, blank and comment lines skipped; heredocs flagged. */
function instructions(text: string): string[] {
  const out: string[] = []
  let cur: string | null = null
  for (const line of text.split('\n')) {
    if (cur === null && /^\s*(#.*)?$/.test(line)) continue
    cur = (cur ?? '') + line
    if (/\\\s*$/.test(cur)) {
      cur = cur.replace(/\\\s*$/, '')
      continue
    }
    const keyword = cur.trim().split(/\s+/)[0]
    if (/^(RUN|COPY|ADD)$/.test(keyword) && /<<-?\s*["']?[A-Za-z_]/.test(cur)) out.push('HEREDOC')
    out.push(keyword)
    cur = null
  }
  if (cur !== null) out.push('DANGLING-CONTINUATION')
  return out
}

/** The instruction keywords the spec's features call for. */
function expected(spec: ImageSpec): string[] {
  const pip = spec.builder_options?.installer === 'pip'
  const venv = pip || !!spec.python_exec
  return [
    ...(pip ? [] : ['FROM', 'FROM']),
    'FROM',
    'WORKDIR',
    'USER',
    ...(spec.apt_packages?.length ? ['RUN'] : []),
    ...(pip ? [] : ['RUN']),
    'RUN',
    'RUN',
    ...(venv ? [] : ['RUN']),
    'ENV',
    ...(venv ? ['WORKDIR', 'RUN', 'WORKDIR'] : ['RUN']),
    'ENV',
    ...(spec.entrypoint !== null ? ['ENTRYPOINT'] : []),
    ...(!pip || (spec.commands ?? []).join(' && ') !== '' ? ['RUN'] : []),
    'WORKDIR',
    'SHELL',
    'USER',
    'RUN',
    'ENV',
  ]
}

async function attempt<T>(f: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await f()
  } catch (e) {
    if (!isImagespecError(e)) throw e
    return undefined
  }
}

describe('fuzz: normalize + createContextPlan', () => {
  it('never crashes and never renders an instruction the spec did not ask for', async () => {
    let rendered = 0
    await fc.assert(
      fc.asyncProperty(specInput, async (input) => {
        const loaded: LoadedSpec | undefined = await attempt(() =>
          specFromObject(input, { cwd, env: {}, machine: 'x86_64' }),
        )
        if (!loaded) return
        const plan: BuildContextPlan | undefined = await attempt(() =>
          createContextPlan(loaded, { syntax: null }),
        )
        if (!plan) return
        rendered++
        expect(instructions(plan.dockerfile)).toEqual(expected(loaded.spec))
        // One requirement per package (plus flytekit's pin): no package spills into a second line.
        const packages = loaded.spec.packages ?? []
        expect(plan.files[0].content!.split('\n')).toHaveLength(
          packages.length + (packages.some(isFlytekit) ? 0 : 1),
        )
      }),
      { numRuns: 400, seed },
    )
    expect(rendered).toBeGreaterThan(20) // about one run in eight passes validation (45-55 of 400)
  })
})
