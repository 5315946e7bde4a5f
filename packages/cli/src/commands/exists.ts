import { ImagespecError } from '@imagespec/spec'
import { load, modulesFor } from '../_common.js'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'

const EXIT = { exists: 0, missing: 1, unknown: 3 } as const

/** Prints whether the image exists; exit 0 exists, 1 missing, 3 unknown. */
export async function existsCommand(
  io: Io,
  g: GlobalOptions,
  file: string | undefined,
  opts: { ref?: string; json?: boolean },
): Promise<number> {
  if ((file === undefined) === (opts.ref === undefined))
    throw new ImagespecError('E_USAGE', 'exists needs a spec file (or -) or --ref <ref>, not both')
  const { probeReference, probeSpec, createEngine } = await import('@imagespec/builder')
  let ref: string
  let answer
  if (opts.ref !== undefined) {
    ref = opts.ref
    answer = await probeReference(ref, { signal: io.signal })
  } else {
    const loaded = await load(io, file as string)
    ref = await createEngine({ builtins: false }).imageName(loaded, modulesFor(io, g, loaded))
    answer = await probeSpec(ref, loaded, io.signal)
  }
  if (opts.json) {
    const { status, digest, platforms, missingPlatforms, reason } = answer
    io.stdout.write(JSON.stringify({ status, ref, digest, platforms, missingPlatforms, reason }) + '\n')
  } else {
    const extra =
      answer.status === 'exists'
        ? (answer.digest ? ` ${answer.digest}` : '')
        : answer.missingPlatforms?.length
          ? ` (missing platforms: ${answer.missingPlatforms.join(', ')})`
          : answer.reason
            ? `: ${answer.reason}`
            : ''
    io.stdout.write(`${answer.status} ${ref}${extra}\n`)
  }
  return EXIT[answer.status]
}
