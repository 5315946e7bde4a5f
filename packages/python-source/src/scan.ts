// Scanning Python sources for ImageSpecs, and turning a scanned spec into a loaded spec.
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { parser } from '@lezer/python'
import {
  ImagespecError,
  specFromObject,
  str2bool,
  type LoadedSpec,
  type NormalizeOptions,
} from '@imagespec/spec'
import { evaluateModule, oneLine, type Importer, type ModuleScan } from './_evaluate.js'
import { pythonFiles } from './_files.js'
import { NotData, specObject, toJson, type SpecData } from './_spec-object.js'

/** Python files larger than this are reported as skipped, not parsed. */
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024

/** One ImageSpec found in a Python file, as a spec file would write it. */
export interface ScannedSpec {
  /** The file as given (a folder argument joined with the file's relative path). */
  file: string
  /** 1-based line where the expression starts. */
  line: number
  /** The variable an assignment binds it to, if any. */
  variable?: string
  /** The spec as in a spec file: the constructor arguments (after `with_*`), a nested base as a nested mapping. */
  spec: { [field: string]: SpecData }
  /** `force_push()` was applied last (flytekit: rebuild even when the image exists). */
  forcePush?: boolean
}

/** An ImageSpec expression that has no static value, or a file that could not be read. */
export interface SkippedSpec {
  file: string
  line: number
  reason: string
}

export interface ScanResult {
  specs: ScannedSpec[]
  skipped: SkippedSpec[]
}

export interface ScanOptions {
  /** Environment for `os.getenv` / `os.environ`; default `process.env`. */
  env?: NodeJS.ProcessEnv
}

function lineOf(src: string, offset: number): number {
  let line = 1
  for (let i = src.indexOf('\n'); i >= 0 && i < offset; i = src.indexOf('\n', i + 1)) line++
  return line
}

function report(text: string, file: string, scan: ModuleScan): ScanResult {
  const result: ScanResult = { specs: [], skipped: [] }
  for (const f of scan.specs) {
    const line = lineOf(text, f.from)
    if (f.value) {
      try {
        const spec = specObject(f.value)
        result.specs.push({
          file,
          line,
          ...(f.variable === undefined ? {} : { variable: f.variable }),
          spec,
          ...(f.value.forcePush ? { forcePush: true } : {}),
        })
        continue
      } catch (e) {
        if (!(e instanceof NotData)) throw e
        result.skipped.push({ file, line, reason: `not evaluable: ${e.message}` })
        continue
      }
    }
    const failure = f.failure!
    const at = lineOf(text, failure.from)
    const where = at === line ? '' : ` (line ${at})`
    result.skipped.push({
      file,
      line,
      reason: `not evaluable: \`${oneLine(text.slice(failure.from, failure.to))}\`${where}: ${failure.why}`,
    })
  }
  if (scan.syntaxErrors.length > 0) {
    result.skipped.push({
      file,
      line: lineOf(text, scan.syntaxErrors[0]),
      reason: 'syntax error: the rest of this statement was not read',
    })
    result.skipped.sort((a, b) => a.line - b.line)
  }
  return result
}

/** Scans the text of one Python module (named `file` in the result); imports of other modules are not followed. */
export function scanSource(text: string, file: string, opts: ScanOptions = {}): ScanResult {
  return report(text, file, evaluateModule(text, parser.parse(text), opts.env ?? process.env))
}

const isFile = (p: string) => statSync(p, { throwIfNoEntry: false })?.isFile() === true

/**
 * The modules of a project, each evaluated once: imports between them (`from workflows.images import base`,
 * `from .images import base`) are followed, absolute ones from the project root (Python's path when pyflyte runs
 * there), relative ones from the importing file.
 */
class Project {
  private readonly modules = new Map<
    string,
    { text: string; scan: ModuleScan } | 'running' | (string & {})
  >()

  constructor(
    private readonly root: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  resolve(module: string, from: string): string | undefined {
    if (module.startsWith('file:')) return module.slice(5)
    const level = /^\.*/.exec(module)![0].length
    const parts = module.slice(level).split('.').filter(Boolean)
    let base = level === 0 ? this.root : path.dirname(from)
    for (let i = 1; i < level; i++) base = path.dirname(base)
    const p = path.join(base, ...parts)
    if (parts.length && isFile(`${p}.py`)) return `${p}.py`
    if (isFile(path.join(p, '__init__.py'))) return path.join(p, '__init__.py')
    return undefined
  }

  /** The evaluated module at `abs` (evaluated now if need be), or why it cannot be. */
  evaluate(abs: string): { text: string; scan: ModuleScan } | string {
    const known = this.modules.get(abs)
    if (known === 'running') return 'a circular import'
    if (known !== undefined) return known
    let text: string
    try {
      if (statSync(abs).size > MAX_SOURCE_BYTES) {
        const why = `file larger than ${MAX_SOURCE_BYTES / 1024 / 1024} MiB, not read`
        this.modules.set(abs, why)
        return why
      }
      text = readFileSync(abs, 'utf8')
    } catch (cause) {
      const why = `cannot read: ${(cause as Error).message}`
      this.modules.set(abs, why)
      return why
    }
    this.modules.set(abs, 'running')
    const importer: Importer = (module) => {
      const target = this.resolve(module, abs)
      if (!target) return undefined
      const m = this.evaluate(target)
      return typeof m === 'string' ? m : { key: `file:${target}`, globals: m.scan.globals }
    }
    const done = { text, scan: evaluateModule(text, parser.parse(text), this.env, importer) }
    this.modules.set(abs, done)
    return done
  }
}

/**
 * Scans Python files and folders (every `.py` under a folder, honouring .gitignore). Specs come in file order, then
 * source order; a file that cannot be read is a skipped entry. Imports of the project's own modules are followed
 * (`cwd` is the project root). Throws `E_SPEC_NOT_FOUND` for a missing path.
 */
export function scanPaths(
  paths: readonly string[],
  opts: ScanOptions & { cwd?: string } = {},
): ScanResult {
  const cwd = path.resolve(opts.cwd ?? process.cwd())
  const project = new Project(cwd, opts.env ?? process.env)
  const result: ScanResult = { specs: [], skipped: [] }
  for (const { file, abs } of pythonFiles(paths, cwd)) {
    const m = project.evaluate(abs)
    if (typeof m === 'string') {
      if (paths.includes(file))
        throw new ImagespecError('E_SPEC_NOT_FOUND', `Cannot read "${file}": ${m}`, { field: file })
      result.skipped.push({ file, line: 0, reason: m })
      continue
    }
    const one = report(m.text, file, m.scan)
    result.specs.push(...one.specs)
    result.skipped.push(...one.skipped)
  }
  return result
}

/** The `--json` text of a scan: `{"specs":[{file,line,variable,spec,force_push?}],"skipped":[{file,line,reason}]}`. */
export function scanResultJson(result: ScanResult): string {
  return toJson({
    specs: result.specs.map((s) => ({
      file: s.file,
      line: s.line,
      variable: s.variable ?? null,
      spec: s.spec,
      ...(s.forcePush ? { force_push: true } : {}),
    })),
    skipped: result.skipped,
  })
}

/** Options of `loadScannedSpec`. */
export interface LoadScannedOptions extends NormalizeOptions {
  /**
   * Directory relative paths in the spec resolve against. flytekit resolves them against the working directory of
   * the Python process (the project root when `pyflyte` runs there), so this is the cwd, not the file's directory.
   */
  cwd: string
  env?: NodeJS.ProcessEnv
}

/**
 * Normalizes a scanned spec like flytekit's `ImageSpec(...)` (the same code as spec files, so the tags match), with
 * `force_push()` kept. The source is `file:line`.
 */
export function loadScannedSpec(scanned: ScannedSpec, opts: LoadScannedOptions): LoadedSpec {
  const env = opts.env ?? process.env
  const loaded = specFromObject(scanned.spec, {
    ...opts,
    env,
    source: `${scanned.file}:${scanned.line}`,
  })
  if (scanned.forcePush && !loaded.forcePush) return { ...loaded, forcePush: str2bool('True') }
  return loaded
}
