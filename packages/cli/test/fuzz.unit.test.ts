// Generated hostile specs (YAML and JSON; wrong types, huge strings, unicode with U+2028 and NUL, deep nesting,
// aliases, duplicate keys, special files) through load, validate, tag and plan in-process, and through the command
// line: every answer is bounded (an ImagespecError, or exit 0/2 and a few lines), never exit 70, never a stack trace,
// never a hang, memory bounded. The seed is printed on failure; IMAGESPEC_FUZZ_SEED replays a run.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { checkSpec } from '@imagespec/builder'
import {
  computeTag,
  IMAGE_SPEC_FIELDS,
  isImagespecError,
  parseSpecText,
  specFromObject,
} from '@imagespec/spec'
import { runMain } from './_main.js'

// A fixed seed by default, so that CI runs are repeatable (a new finding is a new seed tried on purpose, then a test).
const seed = Number(process.env.IMAGESPEC_FUZZ_SEED ?? 20261202)
const SPECS = 10_000
const CLI_RUNS = 300
/** Longest any one input may take (a hang fails the run instead of stalling it). */
const PER_INPUT_MS = 10_000

// A sandbox of files the specs may name: regular files, a directory, a FIFO, a link leaving it, a directory loop.
const dir = mkdtempSync(join(tmpdir(), 'imagespec-fuzz-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
mkdirSync(join(dir, 'src/pkg'), { recursive: true })
writeFileSync(join(dir, 'src/pkg/a.py'), 'print(1)\n')
writeFileSync(join(dir, 'req.txt'), 'requests\n')
writeFileSync(join(dir, 'uv.lock'), '')
writeFileSync(join(dir, 'pyproject.toml'), '[project]\nname = "x"\n')
symlinkSync('..', join(dir, 'src/pkg/loop'))
symlinkSync('/etc/hostname', join(dir, 'src/leak'))
execFileSync('mkfifo', [join(dir, 'fifo')])
mkdirSync(join(dir, 'pipe'))
execFileSync('mkfifo', [join(dir, 'pipe/uv.lock')]) // a lock reader once opened it and blocked

const unicode = fc.constantFrom(
  '\u2028',
  '\u2029',
  '\u0000',
  '\u0085',
  '\u001b[2J',
  'é',
  '😀',
  '\ud800',
  '\u202e',
  '\t',
  '\r\n',
  '\\',
)
const word = fc.constantFrom(
  'x',
  'numpy',
  '3.11',
  '3.10',
  'ghcr.io/acme',
  'localhost:5000',
  'linux/amd64',
  'req.txt',
  'uv.lock',
  'src',
  'fifo',
  '/dev/zero',
  '/etc/passwd',
  '../x',
  'src/leak',
  'default',
  'noop',
  'ALL',
  'NO_COPY',
  '<<EOF',
  '{spec_hash}',
)
const text = fc.oneof(
  { arbitrary: word, weight: 5 },
  {
    arbitrary: fc
      .array(fc.oneof(word, unicode, fc.string({ maxLength: 5 })), { maxLength: 5 })
      .map((p) => p.join('')),
    weight: 4,
  },
  { arbitrary: fc.integer({ min: 200, max: 20_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
)
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
)
const value = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: leaf, weight: 4 },
    { arbitrary: fc.array(tie('v'), { maxLength: 4 }), weight: 1 },
    { arbitrary: fc.dictionary(text, tie('v'), { maxKeys: 4 }), weight: 1 },
  ),
})).v
const field = fc.oneof(
  { arbitrary: fc.constantFrom(...IMAGE_SPEC_FIELDS), weight: 9 },
  { arbitrary: text, weight: 1 },
)
const spec = fc.dictionary(field, value, { maxKeys: 8 }).map((o) => ({ name: 'fuzz', ...o }))
const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`

/** Spec text: YAML or JSON of a generated spec, or one of the hostile shapes that only text can carry. */
const specText = fc.oneof(
  {
    arbitrary: spec.map((s) => ({
      file: 's.yaml',
      text: stringify(s, { aliasDuplicateObjects: true }),
    })),
    weight: 6,
  },
  { arbitrary: spec.map((s) => ({ file: 's.json', text: JSON.stringify(s) })), weight: 3 },
  {
    arbitrary: fc
      .constantFrom(
        'name: x\nname: y\n',
        'name: &a [*a]\n',
        'name: x\nbase_image: &b {name: y, base_image: *b}\n',
        `name: x\npackages: ${deep(200)}\n`,
        `{"name": "x", "env": ${'{"a": '.repeat(300)}1${'}'.repeat(301)}`,
        [
          'a: &a [x, x, x, x, x, x, x, x, x]',
          'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
          'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
          'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
        ].join('\n'),
        'name: x\ncopy: [fifo]\n',
        'name: x\nrequirements: /dev/zero\n',
        'name: x\nrequirements: pipe/uv.lock\n',
        'name: x\nsource_root: src\nsource_copy_mode: ALL\n',
        'name: x\ncopy: [src]\n',
        '\u0000\u2028',
        '- a\n',
        '',
      )
      .map((t) => ({ file: t.startsWith('{') ? 's.json' : 's.yaml', text: t })),
    weight: 1,
  },
  { arbitrary: fc.string({ maxLength: 60 }).map((t) => ({ file: 's.yaml', text: t })), weight: 1 },
)

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${PER_INPUT_MS} ms: ${what.slice(0, 300)}`)),
      PER_INPUT_MS,
    )
  })
  return Promise.race([p, limit]).finally(() => clearTimeout(timer))
}

async function inProcess(input: { file: string; text: string }): Promise<void> {
  try {
    const data = parseSpecText(input.text, input.file)
    const loaded = specFromObject(data, { cwd: dir, env: {}, machine: 'x86_64' })
    await computeTag(loaded)
    await checkSpec(loaded)
  } catch (err) {
    if (!isImagespecError(err)) throw err
    expect(err.message.length).toBeLessThan(200_000)
  }
}

const cli = (args: string[], stdin: string) =>
  runMain(dir, args, { stdin, env: { HOME: dir, DOCKER_CONFIG: join(dir, 'no-docker-config') } })

/** Runs fast-check with the run's seed, and names the seed (to replay with IMAGESPEC_FUZZ_SEED) when it fails. */
async function check(
  property: fc.IAsyncProperty<[{ file: string; text: string }]>,
  numRuns: number,
): Promise<void> {
  try {
    await fc.assert(property, { seed, numRuns, endOnFailure: true })
  } catch (err) {
    throw new Error(
      `fuzz failed with seed ${seed} (replay: IMAGESPEC_FUZZ_SEED=${seed})\n${(err as Error).message}`,
      { cause: err },
    )
  }
}

describe(`fuzz (seed ${seed})`, () => {
  it(
    `${SPECS} generated specs through load, validate, tag and plan: only ImagespecErrors, memory bounded`,
    { timeout: 900_000 },
    async () => {
      const before = process.memoryUsage().heapUsed
      await check(
        fc.asyncProperty(specText, (input) => within(inProcess(input), input.text)),
        SPECS,
      )
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(1024 * 1024 * 1024)
    },
  )

  it(
    `${CLI_RUNS} through the command line: exit 0 or 2, no stack trace, no internal error`,
    { timeout: 900_000 },
    async () => {
      const commands = fc.constantFrom(
        ['validate', '-'],
        ['name', '-'],
        ['render', '--dockerfile-only', '-'],
        ['name', '--json', '-'],
      )
      await check(
        fc.asyncProperty(specText, commands, async (input, args) => {
          const r = await within(cli([...args], input.text), input.text)
          const out = r.stdout + r.stderr
          expect([0, 1, 2], out).toContain(r.code)
          expect(out).not.toMatch(/internal error|\n\s+at \S+ \(/)
          expect(out).not.toMatch(/[\u001b\u2028\u0000]/)
        }) as unknown as fc.IAsyncProperty<[{ file: string; text: string }]>,
        CLI_RUNS,
      )
    },
  )
})
