import { describeIdentity } from '@imagespec/spec'
import { load, modulesFor } from '../_common.js'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'

/** Prints the full image name, or `{"id","tag","image_name"}` with --json. */
export async function nameCommand(io: Io, g: GlobalOptions, file: string, opts: { json?: boolean }): Promise<number> {
  const loaded = await load(io, file)
  const { id, tag, imageName } = await describeIdentity(loaded, { loadedModules: modulesFor(io, g, loaded) })
  io.stdout.write(opts.json ? JSON.stringify({ id, tag, image_name: imageName }) + '\n' : `${imageName}\n`)
  return 0
}
