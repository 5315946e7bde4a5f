import { isImagespecError, type ImagespecError } from '@imagespec/spec'
import { checkLoaded, isPythonSource, load } from '../_common.js'
import { jsonLine, printable } from '../_sanitize.js'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'

/** Codes that are not a problem of the spec (the file is missing, the environment or the tool is wrong). */
const NOT_SPEC_PROBLEMS = new Set(['E_SPEC_NOT_FOUND', 'E_USAGE', 'E_CONFIG_INVALID', 'E_INTERNAL'])

const isSpecProblem = (err: unknown): err is ImagespecError =>
  isImagespecError(err) && !NOT_SPEC_PROBLEMS.has(err.code)

/** The `field: message` lines of a spec problem (a file-level one, such as a YAML syntax error, is its message). */
export function problemLines(err: ImagespecError, file: string): string[] {
  if (isFileLevel(err, file)) return [err.message]
  // Field problems are their details, one `field: message` line each; other problems name their field.
  if (err.code === 'E_SPEC_INVALID' && err.details.length > 0) return [...err.details]
  if (err.field && !err.message.startsWith(`${err.field}:`)) return [`${err.field}: ${err.message}`]
  return [err.message]
}

const isFileLevel = (err: ImagespecError, file: string) =>
  err.field === file || (file === '-' && err.field === '<stdin>')

/**
 * Silent and 0 for a valid spec (warnings go to stderr); otherwise one `field: message` line per problem on stdout
 * and 2. It runs the checks render and build run (builder's `checkSpec`): nested base specs, the tag, the Dockerfile
 * safety rules, copy entries, lock files, python_exec, cuda, pip_secret_mounts sources. With `--json`, one object
 * `{valid, problems: [{field, message, code}], warnings}` holds what checkSpec reported.
 */
export async function validateCommand(
  io: Io,
  g: GlobalOptions,
  file: string,
  flags: { json?: boolean; select?: string } = {},
): Promise<number> {
  if (isPythonSource(io, file)) {
    // Python sources: every spec, its lines prefixed with `file:line: `; a spec that is not evaluable is a problem.
    const { loadPython } = await import('../_python.js')
    const { specs, skipped } = await loadPython(io, file, { select: flags.select })
    const out: string[] = []
    for (const s of specs) {
      try {
        if (!s.loaded) throw s.error
        await checkLoaded(io, g, s.loaded)
      } catch (err) {
        if (!isSpecProblem(err)) throw err
        out.push(
          ...problemLines(err, s.scanned.file).map(
            (l) => `${s.scanned.file}:${s.scanned.line}: ${l}`,
          ),
        )
      }
    }
    out.push(...skipped.map((s) => `${s.file}:${s.line}: ${s.reason}`))
    if (out.length) io.stdout.write(out.map(printable).join('\n') + '\n')
    return out.length ? 2 : 0
  }
  const json = (body: object) => io.stdout.write(jsonLine(body))
  // Under --json the warnings are part of the answer (stdout), not UserWarning lines on stderr.
  const warnings: string[] = []
  const onWarning = flags.json ? (m: string) => void warnings.push(m) : undefined
  try {
    await checkLoaded(io, g, await load(io, file), { onWarning })
    if (flags.json) json({ valid: true, problems: [], warnings })
    return 0
  } catch (err) {
    if (!isSpecProblem(err)) throw err
    const lines = problemLines(err, file)
    if (flags.json) {
      const fileLevel = isFileLevel(err, file)
      const problems = lines.map((line) => {
        const i = fileLevel ? -1 : line.indexOf(': ')
        return i < 0
          ? { field: err.field ?? null, message: line, code: err.code }
          : { field: line.slice(0, i), message: line.slice(i + 2), code: err.code }
      })
      json({ valid: false, problems, warnings })
      return 2
    }
    io.stdout.write(lines.map(printable).join('\n') + '\n')
    return 2
  }
}
