import { resolve } from 'node:path'
import { ImagespecError } from '@imagespec/spec'
import { isPythonSource, load, modulesFor, settingsFor } from '../_common.js'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'

export async function renderCommand(
  io: Io,
  g: GlobalOptions,
  file: string,
  opts: { out?: string; dockerfileOnly?: boolean; json?: boolean; select?: string },
): Promise<number> {
  if (!opts.out && !opts.dockerfileOnly)
    throw new ImagespecError('E_USAGE', 'render needs --out <dir> or --dockerfile-only')
  let loaded
  if (isPythonSource(io, file)) {
    const { loadPython, onlyOne } = await import('../_python.js')
    loaded = onlyOne(file, (await loadPython(io, file, { select: opts.select })).specs)
  } else loaded = await load(io, file)
  const settings = await settingsFor(io, g)
  const { createContextPlan, createDockerContext, resolveContextSettings } = await import('@imagespec/builder')
  const render = await resolveContextSettings(io.env, { ...settings.render, loadedModules: modulesFor(io, g, loaded) })
  // Warnings (e.g. a non-string env value, a base image whose Python differs) go to stderr as `build` shows them.
  render.onWarning = (message) => io.stderr.write(`UserWarning: ${message}\n`)
  if (opts.dockerfileOnly) {
    const plan = await createContextPlan(loaded, render)
    if (opts.json) io.stdout.write(JSON.stringify({ out: null, files: plan.files.map((f) => f.path), dockerfile: plan.dockerfile }) + '\n')
    else io.stdout.write(plan.dockerfile)
    return 0
  }
  const out = resolve(io.cwd, opts.out as string)
  const plan = await createDockerContext(loaded, out, render)
  if (opts.json) io.stdout.write(JSON.stringify({ out, files: ['Dockerfile', ...plan.files.map((f) => f.path)], dockerfile: plan.dockerfile }) + '\n')
  else io.stderr.write(`Build context written to ${out}\n`)
  return 0
}
