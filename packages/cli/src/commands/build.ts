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
  json?: boolean
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

/**
 * The `build --json` summary (the multi-platform issue's shape, one entry per platform): built, or skipped because
 * the image exists (`present`). `digest` is the pushed manifest's, when there was a push.
 */
function buildSummary(io: Io, o: BuildOutcome, platform: string, digest: string | null) {
  const engine = io.env.DOCKER_HOST || 'unix:///var/run/docker.sock'
  const platforms = Object.fromEntries(
    platform.split(',').map((p) => [p.trim(), { status: o.build ? 'built' : 'present', engine }]),
  )
  return { image: o.realName ?? o.imageName, status: o.build ? 'built' : 'skipped', digest, platforms }
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
    if (flags.json) {
      const { imageName, build, reason, description } = outcome
      const body = { image: imageName, would_build: build, reason: reason.join(' '), dockerfile: description?.dockerfile ?? null, command: description?.command ?? null }
      io.stdout.write(JSON.stringify(body) + '\n')
    } else printDryRun(io, outcome)
    return 0
  }
  // With --json the summary is the last stdout line, so progress defaults to plain lines on stderr.
  const progress = createProgress(flags.json && flags.progress === 'auto' ? 'plain' : flags.progress, io)
  let digest: string | null = null
  let outcome: BuildOutcome
  try {
    outcome = await engine.build(loaded, {
      settings,
      env: io.env,
      signal: io.signal,
      onEvent: (e) => {
        if (e.type === 'pushed') digest = e.digest
        progress.onEvent(e)
      },
    })
  } finally {
    progress.close()
  }
  if (flags.json) io.stdout.write(JSON.stringify(buildSummary(io, outcome, loaded.spec.platform, digest)) + '\n')
  return 0
}
