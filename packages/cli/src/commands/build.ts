import type { BuildOutcome } from '@imagespec/builder'
import { ImagespecError } from '@imagespec/spec'
import { pc } from '../_colors.js'
import { engineFor, load, modulesFor, settingsFor } from '../_common.js'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'
import { createProgress, type ProgressMode } from '../progress.js'

export interface BuildFlags {
  push?: boolean
  force?: boolean
  dryRun?: boolean
  builder?: string
  platform?: string
  progress: ProgressMode
  network?: string
  label?: string[]
  cacheFrom?: string[]
  cacheTo?: string[]
}

function parseLabels(labels: string[] = []): Record<string, string> {
  return Object.fromEntries(
    labels.map((l) => {
      const i = l.indexOf('=')
      if (i <= 0) throw new ImagespecError('E_USAGE', `Invalid label "${l}"`, { hint: 'Use --label key=value' })
      return [l.slice(0, i), l.slice(i + 1)]
    }),
  )
}

function printDryRun(io: Io, o: BuildOutcome): void {
  for (const b of o.bases) printDryRun(io, b)
  const out: string[] = [
    `${pc.bold('Image:')} ${o.imageName}`,
    `${pc.bold('Builder:')} ${o.builder}`,
    `${pc.bold('Would build:')} ${o.build ? 'yes' : 'no'}${o.reason.length ? ` (${o.reason.join(' ')})` : ''}`,
  ]
  if (o.description?.dockerfile) out.push(pc.bold('Dockerfile:'), o.description.dockerfile.trimEnd())
  if (o.description?.command) out.push(`${pc.bold('Engine call:')} ${o.description.command}`)
  io.stdout.write(out.join('\n') + '\n\n')
}

export async function buildCommand(io: Io, g: GlobalOptions, file: string, flags: BuildFlags): Promise<number> {
  // --push is defined before --no-push, so `push` stays undefined (FLYTE_PUSH_IMAGE_SPEC decides) unless given.
  const settings = await settingsFor(io, g, {
    push: flags.push,
    force: flags.force || undefined,
    builder: flags.builder,
    platform: flags.platform,
    network: flags.network,
    labels: parseLabels(flags.label),
    cacheFrom: flags.cacheFrom,
    cacheTo: flags.cacheTo,
  })
  const engine = await engineFor(io, g)
  // As in flytekit, a spec that names no builder gets the highest-priority registered one, which may be a
  // --builder-module plugin.
  const loaded = await load(io, file, (await engine.getBuilder()).name)
  settings.render.loadedModules = modulesFor(io, g, loaded)
  if (flags.dryRun) {
    const outcome = await engine.build(loaded, { settings, env: io.env, signal: io.signal, dryRun: true })
    printDryRun(io, outcome)
    return 0
  }
  const progress = createProgress(flags.progress, io)
  try {
    await engine.build(loaded, { settings, env: io.env, signal: io.signal, onEvent: (e) => progress.onEvent(e) })
  } finally {
    progress.close()
  }
  return 0
}
