// Spec files: YAML (PyYAML safe_load semantics where they matter) or JSON, from a path or standard input.
import { statSync } from 'node:fs'
import { readFileText } from './_fs.js'
import path from 'node:path'
import { isAlias, isCollection, isScalar, LineCounter, parseDocument, visit } from 'yaml'
import type { Document, Node as YamlNode, ScalarTag, Tags } from 'yaml'
import { pyRepr } from './pyrepr.js'
import { copyDictOrder, dictKeyName, pyDict } from './dict.js'
import type { DictKey } from './dict.js'
import { ImagespecError } from './errors.js'
import { specFromObject } from './normalize.js'
import type { NormalizeOptions } from './schema.js'
import { PyFloat } from './types.js'
import type { LoadedSpec } from './types.js'

const FLOAT = 'tag:yaml.org,2002:float'
const BOOL = 'tag:yaml.org,2002:bool'

// PyYAML's float resolver: a dot is required (`1e5` is a string) and an exponent needs a sign.
const PYYAML_FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/

function pyyamlFloat(src: string): number {
  const s = src.replace(/_/g, '')
  const sign = s.startsWith('-') ? -1 : 1
  const body = s.replace(/^[-+]/, '')
  if (/^\.inf$/i.test(body)) return sign * Infinity
  if (/^\.nan$/i.test(body)) return NaN
  if (body.includes(':'))
    return sign * body.split(':').reduce((acc, part) => acc * 60 + Number(part), 0)
  return sign * Number(body)
}

const pyyamlTags = (tags: Tags): Tags => [
  ...tags.filter((t) => {
    const tag = (t as ScalarTag).tag
    return tag !== FLOAT && tag !== BOOL
  }),
  // PyYAML's bools do not include y/Y/n/N.
  {
    tag: BOOL,
    default: true,
    test: /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/,
    resolve: () => true,
  },
  {
    tag: BOOL,
    default: true,
    test: /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/,
    resolve: () => false,
  },
  {
    tag: FLOAT,
    default: true,
    test: PYYAML_FLOAT,
    resolve: (s: string) => new PyFloat(pyyamlFloat(s)),
  },
]

const isSafe = (n: bigint) =>
  n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)

/**
 * The parser's output as Python values: mappings become `pyDict`s (the author's key order and key types kept, see
 * dict.ts), ints stay exact (a `bigint` beyond 2^53), shared aliases stay shared.
 */
function toPython(value: unknown, file: string, seen = new Map<object, unknown>()): unknown {
  if (typeof value === 'bigint') return isSafe(value) ? Number(value) : value
  if (typeof value !== 'object' || value === null || value instanceof PyFloat) return value
  const done = seen.get(value)
  if (done !== undefined) return done
  if (Array.isArray(value)) {
    const out: unknown[] = []
    seen.set(value, out)
    for (const item of value) out.push(toPython(item, file, seen))
    return out
  }
  if (!(value instanceof Map)) return value
  const entries: [DictKey, unknown][] = []
  const names = new Map<string, DictKey>()
  const out: Record<string, unknown> = {}
  seen.set(value, out)
  for (const [rawKey, raw] of value) {
    const key = toPython(rawKey, file, seen)
    if (typeof key === 'object' && key !== null && !(key instanceof PyFloat))
      throw new ImagespecError(
        'E_SPEC_INVALID',
        `Cannot parse "${file}": a mapping key must be a scalar, not a collection`,
        { field: file },
      )
    const name = dictKeyName(key as DictKey)
    const earlier = names.get(name)
    if (earlier !== undefined && pyRepr(earlier) !== pyRepr(key as DictKey))
      throw new ImagespecError(
        'E_SPEC_INVALID',
        `Cannot parse "${file}": the keys ${pyRepr(earlier)} and ${pyRepr(key as DictKey)} of one mapping collide`,
        {
          field: file,
          hint: 'Quote the keys so that they are both strings, and make them different',
        },
      )
    names.set(name, key as DictKey)
    entries.push([key as DictKey, toPython(raw, file, seen)])
  }
  const dict = pyDict(entries)
  Object.assign(out, dict)
  copyDictOrder(dict, out)
  return out
}

/** Deepest nesting of mappings and lists a spec may have (flytekit's specs are a few levels deep). */
const MAX_SPEC_DEPTH = 64
/** Largest spec file or standard input read, in bytes. */
const MAX_SPEC_BYTES = 16 * 1024 * 1024
/** Most alias expansions (counted as yaml counts them: nodes reached through aliases) a spec may use. */
const MAX_ALIAS_COUNT = 100

/**
 * Walks the parsed document once (linear time): refuses an alias that points at one of its own ancestors (a cycle),
 * nesting deeper than MAX_SPEC_DEPTH and a mapping key given twice. Returns the first problem and its position.
 */
function structureProblem(doc: Document): { message: string; offset?: number } | undefined {
  let problem: { message: string; offset?: number } | undefined
  const at = (node: { range?: [number, number, number?] | null } | null | undefined) =>
    node?.range?.[0]
  visit(doc, {
    Alias(_key, node, path) {
      const target = node.resolve(doc)
      if (target && (path as readonly unknown[]).includes(target)) {
        problem = {
          message: `alias "*${node.source}" refers to a mapping or list that contains it (a cycle)`,
          offset: at(node),
        }
        return visit.BREAK
      }
      return undefined
    },
    Map(_key, node, path) {
      if (path.filter(isCollection).length >= MAX_SPEC_DEPTH) {
        problem = { message: `nesting deeper than ${MAX_SPEC_DEPTH} levels`, offset: at(node) }
        return visit.BREAK
      }
      const seen = new Set<unknown>()
      for (const pair of node.items) {
        const key = isScalar(pair.key)
          ? pair.key.value
          : isAlias(pair.key)
            ? `*${pair.key.source}`
            : pair.key
        if (seen.has(key)) {
          problem = {
            message: `duplicate key ${JSON.stringify(String(key)).slice(0, 200)}`,
            offset: at(pair.key as YamlNode),
          }
          return visit.BREAK
        }
        seen.add(key)
      }
      return undefined
    },
    Seq(_key, node, path) {
      if (path.filter(isCollection).length >= MAX_SPEC_DEPTH) {
        problem = { message: `nesting deeper than ${MAX_SPEC_DEPTH} levels`, offset: at(node) }
        return visit.BREAK
      }
      return undefined
    },
  })
  return problem
}

/** The deepest nesting of a parsed value, counted without recursion (aliases can stack one tree onto another). */
function depthOf(value: unknown): number {
  let max = 0
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (typeof v !== 'object' || v === null || v instanceof PyFloat) continue
    if (d + 1 > max) max = d + 1
    if (max > MAX_SPEC_DEPTH) return max
    for (const child of Array.isArray(v) ? v : v instanceof Map ? v.values() : Object.values(v))
      stack.push([child, d + 1])
  }
  return max
}

/**
 * Parses spec text as PyYAML's `safe_load` reads it, which is how flytekit reads every spec file (JSON included):
 * YAML 1.1, `3.10` is the float 3.1 (kept as a `PyFloat`), `1e5` and JSON's `1E+5` are strings, ints are exact, and
 * mappings keep the author's key order (`pyDict`). Throws `E_SPEC_INVALID` naming the file, line and column, also for
 * hostile input: alias cycles and alias bombs, nesting deeper than MAX_SPEC_DEPTH, duplicate keys. Linear time.
 */
export function parseSpecText(text: string, file: string): unknown {
  const lineCounter = new LineCounter()
  const fail = (
    reason: string,
    offset: number | undefined,
    cause?: unknown,
    details: string[] = [],
  ): never => {
    const pos = offset === undefined ? undefined : lineCounter.linePos(offset)
    throw new ImagespecError(
      'E_SPEC_INVALID',
      `Cannot parse "${file}"${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${reason}`,
      { cause, details, field: file },
    )
  }
  // yaml's own duplicate-key check compares each key with every earlier one (quadratic); structureProblem's is linear.
  const doc = parseDocument(text, {
    version: '1.1',
    schema: 'yaml-1.1',
    customTags: pyyamlTags,
    uniqueKeys: false,
    lineCounter,
    intAsBigInt: true,
  })
  const err = doc.errors[0]
  if (err) {
    const reason = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
    const excerpt = err.message
      .split('\n')
      .slice(1)
      .filter((l) => l.trim() !== '')
    fail(
      /call stack/i.test(reason) ? `nesting deeper than ${MAX_SPEC_DEPTH} levels` : reason,
      err.pos[0],
      err,
      excerpt,
    )
  }
  const problem = structureProblem(doc)
  if (problem) fail(problem.message, problem.offset)
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT, mapAsMap: true })
  } catch (cause) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount (an "alias bomb").
    if (cause instanceof ReferenceError || cause instanceof RangeError)
      fail(`aliases expand to more than ${MAX_ALIAS_COUNT} nodes`, undefined, cause)
    // Anything else yaml refuses while building values is the input's problem too (e.g. `<<: false`, a merge key
    // whose value is not a mapping).
    fail(cause instanceof Error ? cause.message : String(cause), undefined, cause)
  }
  if (depthOf(value) > MAX_SPEC_DEPTH)
    fail(`nesting deeper than ${MAX_SPEC_DEPTH} levels (through aliases)`, undefined)
  return toPython(value, file)
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'an empty document'
  if (Array.isArray(value)) return 'a list'
  if (value instanceof PyFloat) return 'a number'
  return `a ${typeof value}`
}

function tooLarge(file: string): ImagespecError {
  return new ImagespecError(
    'E_SPEC_INVALID',
    `Spec file "${file}" is larger than ${MAX_SPEC_BYTES / 1024 / 1024} MiB`,
    { field: file },
  )
}

async function readStream(stream: NodeJS.ReadableStream, file: string): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    size += buf.length
    if (size > MAX_SPEC_BYTES) throw tooLarge(file)
    chunks.push(buf)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Options of `loadSpec`. */
export interface LoadSpecOptions extends NormalizeOptions {
  /**
   * The working directory: the base of a relative `file`, and (as in flytekit, which resolves against the Python
   * process's cwd) of the relative paths inside the spec. Default `process.cwd()`.
   */
  cwd?: string
  /** Environment for flytekit's env flags; default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Stream read for the file `-`; default `process.stdin`. */
  stdin?: NodeJS.ReadableStream
}

/**
 * Loads a YAML or JSON spec file (`-` reads standard input) and normalizes it like flytekit's `ImageSpec(**yaml)`.
 * Relative paths in the spec (`requirements`, `source_root`, `copy`) resolve against `cwd`, as flytekit and pyflyte
 * resolve them against the process's working directory; never against the spec file's folder, so the tag does not
 * depend on how the file was passed (`name sub/spec.yaml` and `name - < sub/spec.yaml` agree).
 */
export async function loadSpec(file: string, opts: LoadSpecOptions = {}): Promise<LoadedSpec> {
  const cwd = path.resolve(opts.cwd ?? process.cwd())
  let text: string
  if (file === '-') text = await readStream(opts.stdin ?? process.stdin, file)
  else {
    const abs = path.resolve(cwd, file)
    try {
      // A FIFO or device (/dev/zero) would block or never end: only a regular file of bounded size is read.
      const st = statSync(abs)
      if (!st.isFile())
        throw new ImagespecError('E_SPEC_NOT_FOUND', `Spec file "${file}" is not a regular file`, {
          field: file,
        })
      if (st.size > MAX_SPEC_BYTES) throw tooLarge(file)
      text = await readFileText(abs)
    } catch (cause) {
      if (cause instanceof ImagespecError) throw cause
      const code = (cause as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR')
        throw new ImagespecError('E_SPEC_NOT_FOUND', `Spec file "${file}" not found`, {
          cause,
          field: file,
        })
      throw new ImagespecError('E_SPEC_NOT_FOUND', `Cannot read spec file "${file}"`, {
        cause,
        field: file,
      })
    }
  }
  const data = parseSpecText(text, file === '-' ? '<stdin>' : file)
  if (typeof data !== 'object' || data === null || Array.isArray(data) || data instanceof PyFloat)
    throw new ImagespecError(
      'E_SPEC_INVALID',
      `Spec file "${file}" must be a mapping of ImageSpec fields, got ${describe(data)}`,
      {
        field: file,
        hint: 'Write one field per line, e.g. "name: my-image" and "python_version: \'3.12\'"',
      },
    )
  return specFromObject(data, {
    cwd,
    env: opts.env,
    machine: opts.machine,
    defaultBuilder: opts.defaultBuilder,
    source: file,
  })
}
