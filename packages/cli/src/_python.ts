// Commands on Python sources: `wf.py`, `wf.py:LINE` or a folder stand for the ImageSpecs they construct.
import { ImagespecError, type LoadedSpec } from '@imagespec/spec'
import type { ScannedSpec, ScanResult, SkippedSpec } from '@imagespec/builder'
import type { Io } from './io.js'

/** One scanned spec and its normalized form (or the error normalizing it gave). */
export interface PythonSpec {
  scanned: ScannedSpec
  loaded?: LoadedSpec
  error?: unknown
}

const where = (s: { file: string; line: number }) => `${s.file}:${s.line}`
const labelOf = (s: ScannedSpec) => `${where(s)}${s.variable ? ` (${s.variable})` : ''}`

/** `wf.py:12` → the file and the line; anything else is a path as is. */
function splitLine(arg: string): { path: string; line?: number } {
  const m = /^(.*\.py):(\d+)$/.exec(arg)
  return m ? { path: m[1], line: Number(m[2]) } : { path: arg }
}

/** Scans the argument (a .py file, `file.py:LINE` or a folder). */
async function scanArgument(io: Io, arg: string): Promise<ScanResult & { line?: number }> {
  const { path, line } = splitLine(arg)
  const { scanPythonSources } = await import('@imagespec/builder')
  return {
    ...(await scanPythonSources([path], { cwd: io.cwd, env: io.env })),
    ...(line === undefined ? {} : { line }),
  }
}

/**
 * The specs of a Python argument, narrowed by `wf.py:LINE` or `--select VAR`, each normalized like a spec file
 * (relative paths against the working directory, as flytekit). A selection that matches nothing, or matches a spec
 * that is not evaluable, is an error; so is an argument without any spec.
 */
export async function loadPython(
  io: Io,
  arg: string,
  opts: { select?: string; defaultBuilder?: string } = {},
): Promise<{ specs: PythonSpec[]; skipped: SkippedSpec[] }> {
  const scan = await scanArgument(io, arg)
  const pick = (s: { line: number; variable?: string }) =>
    (scan.line === undefined || s.line === scan.line) &&
    (opts.select === undefined || s.variable === opts.select)
  const chosen = scan.specs.filter(pick)
  const skipped = scan.skipped.filter(
    (s) => pick(s) || (opts.select === undefined && scan.line === undefined),
  )
  const selecting = scan.line !== undefined || opts.select !== undefined
  if (chosen.length === 0) {
    const what = [
      opts.select && `named ${opts.select}`,
      scan.line !== undefined && `on line ${scan.line}`,
    ]
      .filter(Boolean)
      .join(' ')
    if (selecting && skipped.length > 0)
      throw new ImagespecError(
        'E_SPEC_INVALID',
        `The ImageSpec ${what} in "${arg}" is not evaluable`,
        {
          details: skipped.map((s) => `${where(s)}: ${s.reason}`),
        },
      )
    const found = scan.specs.map(labelOf)
    throw new ImagespecError(
      'E_SPEC_NOT_FOUND',
      `No ImageSpec${what ? ` ${what}` : ''} found in "${arg}"`,
      {
        details: [
          ...(found.length ? [`found: ${found.join(', ')}`] : []),
          ...scan.skipped.map((s) => `${where(s)}: ${s.reason}`),
        ],
        hint: found.length
          ? 'Pick one with --select VAR or FILE.py:LINE'
          : 'Run `imagespec scan` to see what is found',
      },
    )
  }
  const { loadScannedSpec } = await import('@imagespec/builder')
  const specs: PythonSpec[] = []
  for (const scanned of chosen) {
    try {
      specs.push({
        scanned,
        loaded: await loadScannedSpec(scanned, {
          cwd: io.cwd,
          env: io.env,
          defaultBuilder: opts.defaultBuilder,
        }),
      })
    } catch (error) {
      specs.push({ scanned, error })
    }
  }
  return { specs, skipped }
}

/** Every spec normalized, or the first invalid one's error, naming where it is. */
export function allLoaded(specs: readonly PythonSpec[]): LoadedSpec[] {
  const bad = specs.find((s) => !s.loaded)
  if (bad) {
    const e = bad.error
    if (e instanceof ImagespecError)
      throw new ImagespecError(e.code, `${labelOf(bad.scanned)}: ${e.message.split('\n')[0]}`, {
        cause: e,
        details: e.details,
        hint: e.hint,
        field: e.field,
      })
    throw e
  }
  return specs.map((s) => s.loaded!)
}

/** One spec, for the commands that take one (render): several are a usage error listing them. */
export function onlyOne(arg: string, specs: readonly PythonSpec[]): LoadedSpec {
  if (specs.length > 1)
    throw new ImagespecError(
      'E_USAGE',
      `"${arg}" holds ${specs.length} ImageSpecs; this command takes one`,
      {
        details: specs.map((s) => labelOf(s.scanned)),
        hint: 'Pick one with --select VAR or FILE.py:LINE',
      },
    )
  return allLoaded(specs)[0]
}

/** Skipped (not evaluable) specs as warnings on stderr. */
export function warnSkipped(io: Io, skipped: readonly SkippedSpec[]): void {
  for (const s of skipped) io.stderr.write(`warning: ${where(s)}: ${s.reason}\n`)
}
