import { resolve } from 'node:path'
import { ImagespecError } from '@imagespec/spec'
import { checkLoaded, isPythonSource, load } from '../_common.js'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'

export async function renderCommand(
  io: Io,
  g: GlobalOptions,
  file: string,
  opts: {
    out?: string
    dockerfileOnly?: boolean
    force?: boolean
    json?: boolean
    select?: string
  },
): Promise<number> {
  if (!opts.out && !opts.dockerfileOnly)
    throw new ImagespecError('E_USAGE', 'render needs --out <dir> or --dockerfile-only')
  let loaded
  if (isPythonSource(io, file)) {
    const { loadPython, onlyOne } = await import('../_python.js')
    loaded = onlyOne(file, (await loadPython(io, file, { select: opts.select })).specs)
  } else loaded = await load(io, file)
  // Every check validate and build --dry-run run; warnings (e.g. a non-string env value, a base image whose Python
  // differs) go to stderr as `build` shows them.
  if (opts.dockerfileOnly) {
    const { plan } = await checkLoaded(io, g, loaded)
    if (opts.json)
      io.stdout.write(
        JSON.stringify({
          out: null,
          files: plan.files.map((f) => f.path),
          dockerfile: plan.dockerfile,
        }) + '\n',
      )
    else io.stdout.write(plan.dockerfile)
    return 0
  }
  const out = resolve(io.cwd, opts.out as string)
  const { replaceDirectory } = await import('../_out-dir.js')
  const { plan } = await replaceDirectory(out, Boolean(opts.force), (tmp) =>
    checkLoaded(io, g, loaded, { out: tmp }),
  )
  if (opts.json)
    io.stdout.write(
      JSON.stringify({
        out,
        files: ['Dockerfile', ...plan.files.map((f) => f.path)],
        dockerfile: plan.dockerfile,
      }) + '\n',
    )
  else io.stderr.write(`Build context written to ${out}\n`)
  return 0
}
