import { describeIdentity } from '@imagespec/spec'
import { isPythonSource, load, modulesFor } from '../_common.js'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'

/** Prints the full image name, or `{"id","tag","image_name"}` with --json. */
export async function nameCommand(
  io: Io,
  g: GlobalOptions,
  file: string,
  opts: { json?: boolean; select?: string },
): Promise<number> {
  if (isPythonSource(io, file)) {
    // Python sources: one name per spec; --json a list of {"file","line","variable","id","tag","image_name"}.
    const { loadPython, allLoaded, warnSkipped } = await import('../_python.js')
    const { specs, skipped } = await loadPython(io, file, { select: opts.select })
    warnSkipped(io, skipped)
    const rows = []
    for (const [i, l] of allLoaded(specs).entries()) {
      const { id, tag, imageName } = await describeIdentity(l)
      const { file: f, line, variable } = specs[i].scanned
      rows.push({ file: f, line, variable: variable ?? null, id, tag, image_name: imageName })
    }
    io.stdout.write(
      opts.json ? JSON.stringify(rows) + '\n' : rows.map((r) => `${r.image_name}\n`).join(''),
    )
    return 0
  }
  const loaded = await load(io, file)
  const { id, tag, imageName } = await describeIdentity(loaded, {
    loadedModules: modulesFor(io, g, loaded),
  })
  io.stdout.write(
    opts.json ? JSON.stringify({ id, tag, image_name: imageName }) + '\n' : `${imageName}\n`,
  )
  return 0
}
