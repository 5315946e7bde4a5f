import { computeTag, isImagespecError } from '@imagespec/spec'
import { isPythonSource, load } from '../_common.js'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'

/**
 * Silent and 0 for a valid spec; otherwise one `field: message` line per problem on stdout and 2. The tag is
 * computed too, so problems flytekit only finds then (copy mode without source_root, a missing requirements file)
 * are reported.
 */
export async function validateCommand(io: Io, _g: GlobalOptions, file: string, flags: { json?: boolean; select?: string } = {}): Promise<number> {
  if (isPythonSource(io, file)) {
    // Python sources: every spec, its lines prefixed with `file:line: `; a spec that is not evaluable is a problem.
    const { loadPython } = await import('../_python.js')
    const { specs, skipped } = await loadPython(io, file, { select: flags.select })
    const out: string[] = []
    for (const s of specs) {
      try {
        if (!s.loaded) throw s.error
        await computeTag(s.loaded)
      } catch (err) {
        if (!isImagespecError(err) || !err.code.startsWith('E_SPEC_') || err.code === 'E_SPEC_NOT_FOUND') throw err
        const lines = err.details.length > 0 ? err.details : [`${err.field ?? 'spec'}: ${err.message}`]
        out.push(...lines.map((l) => `${s.scanned.file}:${s.scanned.line}: ${l}`))
      }
    }
    out.push(...skipped.map((s) => `${s.file}:${s.line}: ${s.reason}`))
    if (out.length) io.stdout.write(out.join('\n') + '\n')
    return out.length ? 2 : 0
  }
  const json = (body: object) => io.stdout.write(JSON.stringify(body) + '\n')
  try {
    const loaded = await load(io, file)
    await computeTag(loaded)
    if (flags.json) {
      const { unsupportedFields } = await import('@imagespec/builder')
      const unsupported = unsupportedFields(loaded.spec)
      const warnings = unsupported.length ? [`The following parameters are unsupported and ignored: ${unsupported.join(', ')}`] : []
      json({ valid: true, problems: [], warnings })
    }
    return 0
  } catch (err) {
    if (!isImagespecError(err) || !err.code.startsWith('E_SPEC_') || err.code === 'E_SPEC_NOT_FOUND') throw err
    // A file-level problem (YAML syntax with its line and column, not a mapping) is its message; field problems are
    // their details, one `field: message` line each.
    const fileLevel = err.field === file || (file === '-' && err.field === '<stdin>')
    const lines = !fileLevel && err.details.length > 0 ? err.details : [fileLevel ? err.message : `${err.field ?? 'spec'}: ${err.message}`]
    if (flags.json) {
      const problems = lines.map((line) => {
        const i = fileLevel ? -1 : line.indexOf(': ')
        return i < 0 ? { field: err.field ?? null, message: line, code: err.code } : { field: line.slice(0, i), message: line.slice(i + 2), code: err.code }
      })
      json({ valid: false, problems, warnings: [] })
      return 2
    }
    io.stdout.write(lines.join('\n') + '\n')
    return 2
  }
}
