// flytekit's ImageSpec.__post_init__: normalization, defaults and validation, with flytekit's error order and text.
import path from 'node:path'
import { closestMatch } from 'leven'
import type * as z from 'zod/mini'
import { copyDictOrder } from './dict.js'
import { ImagespecError } from './errors.js'
import { createImageSpecSchema, hostImageSpecSchema, LIST_OF_STRING_FIELDS } from './schema.js'
import type { NormalizeOptions } from './schema.js'
import { IMAGE_SPEC_FIELDS } from './types.js'
import type { ImageSpec, LoadedSpec } from './types.js'

interface Problem {
  path: (string | number)[]
  message: string
  /** The field an unknown key was probably meant to be. */
  suggestion?: string
}

/** The closest ImageSpec field to a misspelt key (about one edit in three), or undefined. */
function suggestField(key: string): string | undefined {
  const maxDistance = Math.max(2, Math.floor(key.length / 3))
  return closestMatch(key.toLowerCase(), [...IMAGE_SPEC_FIELDS], { maxDistance })
}

const schemas = new Map<string, ReturnType<typeof createImageSpecSchema>>()

function schemaFor(opts: NormalizeOptions) {
  if (opts.machine === undefined && opts.defaultBuilder === undefined) return hostImageSpecSchema()
  const key = `${opts.machine ?? ''}\0${opts.defaultBuilder === null ? '\0null' : (opts.defaultBuilder ?? '')}`
  let schema = schemas.get(key)
  if (!schema) schemas.set(key, (schema = createImageSpecSchema(opts)))
  return schema
}

// The order in which flytekit raises: a nested base spec is constructed first, then unknown keyword arguments
// fail the call, then __post_init__ runs name, registry, the list checks, pip_secret_mounts, builder_options.
function rank(p: Problem, depth: number): number {
  const field = p.path[depth]
  if (p.path.length > depth + 1 && field === 'base_image') return 0
  if (p.message.startsWith('ImageSpec.__init__()')) return 1
  if (field === 'name') return 2
  if (field === 'registry') return 3
  const list = (LIST_OF_STRING_FIELDS as readonly unknown[]).indexOf(field)
  if (list >= 0) return 10 + list
  if (field === 'pip_secret_mounts') return 20
  if (field === 'builder_options') return 21
  return 30 + (IMAGE_SPEC_FIELDS as readonly unknown[]).indexOf(field)
}

function problems(issues: readonly z.core.$ZodIssue[], prefix: (string | number)[]): Problem[] {
  const out: Problem[] = []
  for (const issue of issues) {
    const at = [...prefix, ...issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k))]
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({
          path: [...at, key],
          message: `ImageSpec.__init__() got an unexpected keyword argument '${key}'`,
          suggestion: suggestField(key),
        })
      continue
    }
    if (issue.code === 'invalid_union') {
      // A nested base spec fails inside the object branch: report its own problems, not "no branch matched".
      const deep = issue.errors.filter((branch) =>
        branch.some((e) => e.path.length > 0 || e.code !== 'invalid_type'),
      )
      if (deep.length === 1) {
        out.push(...problems(deep[0], at))
        continue
      }
    }
    out.push({ path: at.slice(0, prefix.length + 1), message: issue.message })
  }
  return out
}

function rankVector(p: Problem): number[] {
  const ranks: number[] = []
  for (let depth = 0; ; depth++) {
    const r = rank(p, depth)
    ranks.push(r)
    if (r !== 0) return ranks
  }
}

function ordered(all: Problem[]): Problem[] {
  const seen = new Set<string>()
  const unique = all.filter((p) => {
    const key = p.path.join('.')
    return !seen.has(key) && (seen.add(key), true)
  })
  const keyed = unique.map((p, i) => ({ p, i, r: rankVector(p) }))
  keyed.sort((a, b) => {
    for (let k = 0; k < Math.min(a.r.length, b.r.length); k++)
      if (a.r[k] !== b.r[k]) return a.r[k] - b.r[k]
    return a.r.length - b.r.length || a.i - b.i
  })
  return keyed.map((x) => x.p)
}

/** Gives the parsed mappings the key order of the input's (zod builds new objects, in JS key order). */
function carryDictOrder(
  input: unknown,
  output: unknown,
  isSpec = false,
  seen = new WeakSet<object>(),
): void {
  if (
    typeof input !== 'object' ||
    input === null ||
    typeof output !== 'object' ||
    output === null ||
    input === output
  )
    return
  if (seen.has(output)) return
  seen.add(output)
  if (!isSpec) copyDictOrder(input, output)
  for (const key of Object.keys(output)) {
    if (!Object.hasOwn(input, key)) continue
    const from = (input as Record<string, unknown>)[key]
    const to = (output as Record<string, unknown>)[key]
    carryDictOrder(from, to, isSpec && key === 'base_image', seen)
  }
}

/**
 * Validates and normalizes ImageSpec constructor arguments exactly like flytekit's `__post_init__`
 * (lower-casing, registry check, platform/copy-mode/builder defaults, list checks). Throws `E_SPEC_INVALID`
 * whose message is flytekit's text for the first problem and whose `details` hold one `field: message` line each.
 */
export function normalizeSpec(input: unknown, opts: NormalizeOptions = {}): ImageSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new ImagespecError(
      'E_SPEC_INVALID',
      'An ImageSpec must be a mapping of field names to values',
      {
        details: [
          `(root): expected a mapping, got ${Array.isArray(input) ? 'a list' : input === null ? 'None' : typeof input}`,
        ],
      },
    )
  // One parse per process: generating zod's compiled object parser (new Function) would cost more than it saves.
  const result = schemaFor(opts).safeParse(input, { jitless: true })
  if (result.success) {
    carryDictOrder(input, result.data, true)
    return result.data
  }
  const sorted = ordered(problems(result.error.issues, []))
  const first = sorted[0]
  const field = first.path.join('.')
  throw new ImagespecError('E_SPEC_INVALID', first.message, {
    field,
    details: sorted.map(
      (p) =>
        `${p.path.join('.')}: ${p.message.split('\n')[0]}${p.suggestion ? ` (did you mean ${p.suggestion}?)` : ''}`,
    ),
    hint: first.suggestion
      ? `did you mean ${first.suggestion}?`
      : first.path.at(-1) === 'registry' &&
          first.message.startsWith('Invalid container registry name')
        ? "Expected formats: 'localhost:30000', 'ghcr.io/username', 'docker.io/username'"
        : undefined,
  })
}

/**
 * flytekit's `str2bool` (flytekit/clis): `false` for an unset value (`undefined`), else true unless the lower-cased
 * value is `false`, `0`, `off` or `no`. An empty string is therefore true, as in flytekit.
 */
export function str2bool(value: string | undefined): boolean {
  if (value === undefined) return false
  return !['false', '0', 'off', 'no'].includes(value.toLowerCase())
}

/** Options of `specFromObject`. */
export interface SpecFromObjectOptions extends NormalizeOptions {
  /** Directory that relative paths in the spec resolve against. */
  cwd: string
  /** Environment for FLYTE_FORCE_PUSH_IMAGE_SPEC / FLYTE_IMG_FAST_FAIL; default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Where the spec came from (a file path or `-`). */
  source?: string
}

/** Normalizes ImageSpec arguments (see `normalizeSpec`) and attaches the cwd and flytekit's env flags. */
export function specFromObject(input: unknown, opts: SpecFromObjectOptions): LoadedSpec {
  const env = opts.env ?? process.env
  const spec = normalizeSpec(input, opts)
  return {
    spec,
    cwd: path.resolve(opts.cwd),
    ...(opts.source === undefined ? {} : { source: opts.source }),
    forcePush: str2bool(env.FLYTE_FORCE_PUSH_IMAGE_SPEC),
    fastFail: str2bool(env.FLYTE_IMG_FAST_FAIL),
  }
}
