import { describeIdentity, ImagespecError } from '@imagespec/spec'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'

/**
 * Lists the ImageSpecs that Python files and folders construct: `file:line variable image-name` per spec and
 * `file:line not evaluable: …` per skipped one; `--json` prints `{"specs": […], "skipped": […]}`.
 */
export async function scanCommand(
  io: Io,
  _g: GlobalOptions,
  paths: string[],
  opts: { json?: boolean },
): Promise<number> {
  const notPython = paths.filter((p) => /\.(ya?ml|json)$/i.test(p) || p === '-')
  if (notPython.length)
    throw new ImagespecError(
      'E_USAGE',
      `scan reads Python files and folders, not "${notPython[0]}"`,
      {
        hint: 'Spec files need no scan: give them to name, validate, render, exists or build',
      },
    )
  const { scanPythonSources, pythonScanJson, loadScannedSpec } = await import('@imagespec/builder')
  const result = await scanPythonSources(paths, { cwd: io.cwd, env: io.env })
  if (opts.json) {
    io.stdout.write((await pythonScanJson(result)) + '\n')
    return 0
  }
  const rows: { at: string; line: number; file: string; text: string }[] = []
  for (const s of result.specs) {
    let name: string
    try {
      name = (await describeIdentity(await loadScannedSpec(s, { cwd: io.cwd, env: io.env })))
        .imageName
    } catch (e) {
      if (!(e instanceof ImagespecError)) throw e
      name = `invalid: ${e.message.split('\n')[0]}`
    }
    rows.push({
      file: s.file,
      line: s.line,
      at: `${s.file}:${s.line}`,
      text: `${s.variable ?? '-'}  ${name}${s.forcePush ? '  (force_push)' : ''}`,
    })
  }
  for (const s of result.skipped)
    rows.push({ file: s.file, line: s.line, at: `${s.file}:${s.line}`, text: `-  ${s.reason}` })
  rows.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line))
  const width = Math.max(0, ...rows.map((r) => r.at.length))
  for (const r of rows) io.stdout.write(`${r.at.padEnd(width)}  ${r.text}\n`)
  if (rows.length === 0) io.stderr.write(`No ImageSpec found in ${paths.join(', ')}\n`)
  return 0
}
