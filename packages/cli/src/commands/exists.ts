import { ImagespecError } from '@imagespec/spec'
import { isPythonSource, load, modulesFor } from '../_common.js'
import { printable } from '../_sanitize.js'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'

const EXIT = { exists: 0, missing: 1, unknown: 3 } as const

/** Prints whether the image exists; exit 0 exists, 1 missing, 3 unknown. */
export async function existsCommand(
  io: Io,
  g: GlobalOptions,
  file: string | undefined,
  opts: { ref?: string; json?: boolean; select?: string },
): Promise<number> {
  if ((file === undefined) === (opts.ref === undefined))
    throw new ImagespecError('E_USAGE', 'exists needs a spec file (or -) or --ref <ref>, not both')
  const { probeReference, probeSpec, createEngine } = await import('@imagespec/builder')
  if (opts.ref === undefined && isPythonSource(io, file)) {
    // Python sources: one line (or JSON object) per spec; exit 3 if any is unknown, else 1 if any is missing.
    const { loadPython, allLoaded, warnSkipped } = await import('../_python.js')
    const { specs, skipped } = await loadPython(io, file as string, { select: opts.select })
    warnSkipped(io, skipped)
    const engine = createEngine({ builtins: false })
    const rows = []
    for (const [i, l] of allLoaded(specs).entries()) {
      const r = await engine.imageName(l)
      const { status, digest, platforms, missingPlatforms, reason } = await probeSpec(
        r,
        l,
        io.signal,
      )
      const { file: f, line, variable } = specs[i].scanned
      rows.push({
        file: f,
        line,
        variable: variable ?? null,
        status,
        ref: r,
        digest,
        platforms,
        missingPlatforms,
        reason,
      })
    }
    if (opts.json) io.stdout.write(JSON.stringify(rows) + '\n')
    else
      for (const r of rows)
        io.stdout.write(
          `${r.status} ${printable(`${r.ref}${r.status === 'exists' ? (r.digest ? ` ${r.digest}` : '') : r.missingPlatforms?.length ? ` (missing platforms: ${r.missingPlatforms.join(', ')})` : r.reason ? `: ${r.reason}` : ''}`)}\n`,
        )
    return rows.some((r) => r.status === 'unknown')
      ? 3
      : rows.some((r) => r.status === 'missing')
        ? 1
        : 0
  }
  let ref: string
  let answer
  if (opts.ref !== undefined) {
    ref = opts.ref
    answer = await probeReference(ref, { signal: io.signal, env: io.env })
  } else {
    const loaded = await load(io, file as string)
    ref = await createEngine({ builtins: false }).imageName(loaded, modulesFor(io, g, loaded))
    answer = await probeSpec(ref, loaded, io.signal)
  }
  if (opts.json) {
    const { status, digest, platforms, missingPlatforms, reason } = answer
    io.stdout.write(
      JSON.stringify({ status, ref, digest, platforms, missingPlatforms, reason }) + '\n',
    )
  } else {
    const extra =
      answer.status === 'exists'
        ? answer.digest
          ? ` ${answer.digest}`
          : ''
        : answer.missingPlatforms?.length
          ? ` (missing platforms: ${answer.missingPlatforms.join(', ')})`
          : answer.reason
            ? `: ${answer.reason}`
            : ''
    io.stdout.write(`${answer.status} ${printable(`${ref}${extra}`)}\n`)
  }
  return EXIT[answer.status]
}
