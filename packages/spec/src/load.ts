// Spec files: YAML (PyYAML safe_load semantics where they matter) or JSON, from a path or standard input.
import { readFileText } from './_fs.js'
import path from 'node:path'
import { isScalar, parseDocument } from 'yaml'
import type { ScalarTag, Tags } from 'yaml'
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
  if (body.includes(':')) return sign * body.split(':').reduce((acc, part) => acc * 60 + Number(part), 0)
  return sign * Number(body)
}

const pyyamlTags = (tags: Tags): Tags => [
  ...tags.filter((t) => {
    const tag = (t as ScalarTag).tag
    return tag !== FLOAT && tag !== BOOL
  }),
  // PyYAML's bools do not include y/Y/n/N.
  { tag: BOOL, default: true, test: /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/, resolve: () => true },
  { tag: BOOL, default: true, test: /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/, resolve: () => false },
  { tag: FLOAT, default: true, test: PYYAML_FLOAT, resolve: (s: string) => new PyFloat(pyyamlFloat(s)) },
]

// JSON keeps its own number rules; only the float/int distinction is kept through PyFloat.
const jsonTags = (tags: Tags): Tags =>
  tags.map((t) => {
    const tag = t as ScalarTag
    if (tag.tag !== FLOAT || !tag.resolve) return t
    const resolve = tag.resolve
    return {
      ...tag,
      resolve: (...args: Parameters<typeof resolve>) => {
        const r = resolve(...args)
        return new PyFloat(Number(isScalar(r) ? r.value : r))
      },
    }
  })

/**
 * Parses spec text: YAML 1.1 as PyYAML's `safe_load` reads it (`3.10` is the float 3.1, kept as a `PyFloat`), or JSON
 * (`json: true`), where `3.0` stays a float too. Throws `E_SPEC_INVALID` naming the file, line and column.
 */
export function parseSpecText(text: string, file: string, opts: { json?: boolean } = {}): unknown {
  const doc = opts.json
    ? parseDocument(text, { version: '1.2', schema: 'core', customTags: jsonTags })
    : parseDocument(text, { version: '1.1', schema: 'yaml-1.1', customTags: pyyamlTags })
  const err = doc.errors[0]
  if (err) {
    const pos = err.linePos?.[0]
    const reason = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
    throw new ImagespecError(
      'E_SPEC_INVALID',
      `Cannot parse "${file}"${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${reason}`,
      { cause: err, details: err.message.split('\n').slice(1).filter((l) => l.trim() !== ''), field: file },
    )
  }
  return doc.toJS({ maxAliasCount: 100 })
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'an empty document'
  if (Array.isArray(value)) return 'a list'
  if (value instanceof PyFloat) return 'a number'
  return `a ${typeof value}`
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

/** Options of `loadSpec`. */
export interface LoadSpecOptions extends NormalizeOptions {
  /** Base directory for a relative `file`, and the spec's cwd when reading standard input. Default `process.cwd()`. */
  cwd?: string
  /** Environment for flytekit's env flags; default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Stream read for the file `-`; default `process.stdin`. */
  stdin?: NodeJS.ReadableStream
}

/**
 * Loads a YAML or JSON spec file (`-` reads standard input) and normalizes it like flytekit's `ImageSpec(**yaml)`.
 * Relative paths in the spec resolve against the file's directory (standard input: the cwd).
 */
export async function loadSpec(file: string, opts: LoadSpecOptions = {}): Promise<LoadedSpec> {
  const cwd = path.resolve(opts.cwd ?? process.cwd())
  let text: string
  let specCwd = cwd
  if (file === '-') text = await readStream(opts.stdin ?? process.stdin)
  else {
    const abs = path.resolve(cwd, file)
    specCwd = path.dirname(abs)
    try {
      text = await readFileText(abs)
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR')
        throw new ImagespecError('E_SPEC_NOT_FOUND', `Spec file "${file}" not found`, { cause, field: file })
      throw new ImagespecError('E_SPEC_NOT_FOUND', `Cannot read spec file "${file}"`, { cause, field: file })
    }
  }
  const data = parseSpecText(text, file === '-' ? '<stdin>' : file, { json: /\.json$/i.test(file) })
  if (typeof data !== 'object' || data === null || Array.isArray(data) || data instanceof PyFloat)
    throw new ImagespecError('E_SPEC_INVALID', `Spec file "${file}" must be a mapping of ImageSpec fields, got ${describe(data)}`, {
      field: file,
      hint: 'Write one field per line, e.g. "name: my-image" and "python_version: \'3.12\'"',
    })
  return specFromObject(data, {
    cwd: specCwd,
    env: opts.env,
    machine: opts.machine,
    defaultBuilder: opts.defaultBuilder,
    source: file,
  })
}
