import { resolve } from 'node:path'
import type { BuildAllEntry, BuildOptions, BuildOutcome, Engine } from '@imagespec/builder'
import { ImagespecError, isImagespecError } from '@imagespec/spec'
import { pc } from '../_colors.js'
import {
  checkLoaded,
  engineFor,
  isPythonSource,
  load,
  modulesFor,
  settingsFor,
} from '../_common.js'
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
  engines?: string
  json?: boolean
  select?: string
  jobs?: string
}

function parseLabels(labels: string[] = []): Record<string, string> {
  return Object.fromEntries(
    labels.map((l) => {
      const i = l.indexOf('=')
      if (i <= 0)
        throw new ImagespecError('E_USAGE', `Invalid label "${l}"`, {
          hint: 'Use --label key=value',
        })
      return [l.slice(0, i), l.slice(i + 1)]
    }),
  )
}

function printDryRun(io: Io, o: BuildOutcome, withBases = true): void {
  if (withBases) for (const b of o.bases) printDryRun(io, b)
  const out: string[] = [
    `${pc.bold('Image:')} ${o.imageName}`,
    `${pc.bold('Builder:')} ${o.builder}`,
    `${pc.bold('Would build:')} ${o.build ? 'yes' : 'no'}${o.reason.length ? ` (${o.reason.join(' ')})` : ''}`,
  ]
  const plan = o.description?.platforms
  if (plan) {
    out.push(pc.bold('Platforms:'))
    for (const [p, v] of Object.entries(plan))
      out.push(
        v.status === 'present'
          ? `  ${p}: present`
          : `  ${p}: build on ${v.engine}${v.emulated ? ' (emulated)' : ''}`,
      )
  }
  if (o.description?.dockerfile)
    out.push(pc.bold('Dockerfile:'), o.description.dockerfile.trimEnd())
  if (o.description?.command) out.push(`${pc.bold('Engine call:')} ${o.description.command}`)
  io.stdout.write(out.join('\n') + '\n\n')
}

/**
 * The `build --json` summary, one shape for one or many platforms: the image, built or skipped, the digest pushed
 * under the tag in this run (a manifest, or the index of a multi-platform image; else null), and per platform of the
 * spec `built` (on the engine that built it) or `present`. `engine` falls back to DOCKER_HOST's engine (the
 * default one) when no other engine was involved.
 */
export function buildSummary(
  io: Pick<Io, 'env'>,
  o: BuildOutcome,
  platform: string,
  digest: string | null,
) {
  const fallback = io.env.DOCKER_HOST || 'unix:///var/run/docker.sock'
  const platforms = Object.fromEntries(
    platform
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => {
        const known = o.platforms?.[p]
        return [
          p,
          {
            status: known?.status ?? (o.build ? 'built' : 'present'),
            engine: known?.engine ?? fallback,
          },
        ]
      }),
  )
  return {
    image: o.realName ?? o.imageName,
    status: o.build ? 'built' : 'skipped',
    digest,
    platforms,
  }
}

export async function buildCommand(
  io: Io,
  g: GlobalOptions,
  file: string,
  flags: BuildFlags,
): Promise<number> {
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
    engines: flags.engines && resolve(io.cwd, flags.engines),
  })
  const engine = await engineFor(io, g)
  // As in flytekit, a spec that names no builder gets the highest-priority registered one, which may be a
  // --builder-module plugin.
  const defaultBuilder = (await engine.getBuilder()).name
  if (isPythonSource(io, file))
    return buildPython(
      io,
      g,
      engine,
      file,
      flags,
      { settings, env: io.env, signal: io.signal },
      defaultBuilder,
    )
  const loaded = await load(io, file, defaultBuilder)
  settings.render.loadedModules = modulesFor(io, g, loaded)
  if (flags.dryRun) {
    // Every check render runs, with its warnings, before the engine decides.
    await checkLoaded(io, g, loaded, { platform: flags.platform, settings })
    const outcome = await engine.build(loaded, {
      settings,
      env: io.env,
      signal: io.signal,
      dryRun: true,
    })
    if (flags.json) {
      const { imageName, build, reason, description } = outcome
      const body = {
        image: imageName,
        would_build: build,
        reason: reason.join(' '),
        dockerfile: description?.dockerfile ?? null,
        command: description?.command ?? null,
        // Multi-platform specs and fleets only: per platform `present`, or `build` on which engine.
        ...(description?.platforms && { platforms: description.platforms }),
      }
      io.stdout.write(JSON.stringify(body) + '\n')
    } else printDryRun(io, outcome)
    return 0
  }
  // With --json the summary is the last stdout line, so progress defaults to plain lines on stderr.
  const progress = createProgress(
    flags.json && flags.progress === 'auto' ? 'plain' : flags.progress,
    io,
  )
  let digest: string | null = null
  let outcome: BuildOutcome
  try {
    outcome = await engine.build(loaded, {
      settings,
      env: io.env,
      signal: io.signal,
      onEvent: (e) => {
        // A multi-platform build pushes each child by digest (events carry their platform), then the index.
        if (e.type === 'pushed' && !e.platform) digest = e.digest
        progress.onEvent(e)
      },
    })
  } finally {
    progress.close()
  }
  if (flags.json)
    io.stdout.write(JSON.stringify(buildSummary(io, outcome, loaded.spec.platform, digest)) + '\n')
  return 0
}

function parseJobs(jobs: string | undefined): number | undefined {
  if (jobs === undefined) return undefined
  if (!/^[1-9]\d{0,2}$/.test(jobs))
    throw new ImagespecError('E_USAGE', `Invalid --jobs "${jobs}"`, {
      hint: 'Use a whole number from 1 to 999',
    })
  return Number(jobs)
}

const statusLine = (e: BuildAllEntry): string => {
  if (e.status === 'blocked')
    return `${pc.yellow('blocked')} ${e.imageName} (its base ${e.blockedBy} failed)`
  if (e.status === 'failed')
    return `${pc.red('failed')}  ${e.imageName}: ${e.error instanceof Error ? e.error.message.split('\n')[0] : String(e.error)}`
  return e.outcome?.build
    ? `${pc.green('built')}   ${e.outcome.realName ?? e.imageName}`
    : `${pc.dim('exists')}  ${e.imageName}`
}

/**
 * Every ImageSpec of Python sources: each distinct image once, nested bases first, `--jobs` at a time (default 2),
 * each through the engine's normal build (existing images are skipped). A summary line per image; if any failed,
 * E_BUILD_FAILED (exit 1) after the others finished.
 */
async function buildPython(
  io: Io,
  g: GlobalOptions,
  engine: Engine,
  file: string,
  flags: BuildFlags,
  opts: BuildOptions,
  defaultBuilder: string,
): Promise<number> {
  const concurrency = parseJobs(flags.jobs)
  const { loadPython, allLoaded, warnSkipped } = await import('../_python.js')
  const { specs, skipped } = await loadPython(io, file, { select: flags.select, defaultBuilder })
  warnSkipped(io, skipped)
  const loaded = allLoaded(specs)
  const { buildAll } = await import('@imagespec/builder')
  if (flags.dryRun) {
    for (const l of loaded)
      await checkLoaded(io, g, l, { platform: flags.platform, settings: opts.settings })
    const entries = await buildAll(engine, loaded, { ...opts, dryRun: true, concurrency })
    for (const e of entries) {
      if (e.status !== 'done') throw e.error
      printDryRun(io, e.outcome!, false)
    }
    return 0
  }
  const progress = createProgress(flags.progress, io)
  let entries: BuildAllEntry[]
  try {
    entries = await buildAll(engine, loaded, {
      ...opts,
      concurrency,
      onEvent: (e) => progress.onEvent(e),
    })
  } finally {
    progress.close()
  }
  const cancelled = entries.find(
    (e) => isImagespecError(e.error) && e.error.code === 'E_BUILD_CANCELLED',
  )
  if (cancelled) throw cancelled.error
  if (flags.progress !== 'json') for (const e of entries) io.stderr.write(statusLine(e) + '\n')
  const bad = entries.filter((e) => e.status !== 'done')
  if (bad.length)
    throw new ImagespecError(
      'E_BUILD_FAILED',
      `${bad.length} of ${entries.length} images did not build`,
      {
        details: bad.map((e) =>
          e.status === 'blocked'
            ? `${e.imageName}: its base ${e.blockedBy} failed`
            : `${e.imageName}: ${e.error instanceof Error ? e.error.message.split('\n')[0] : String(e.error)}`,
        ),
        cause: bad.find((e) => e.error)?.error,
      },
    )
  return 0
}
