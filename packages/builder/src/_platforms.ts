// Multi-platform builds: read what the tag holds, build only the missing platforms on the fleet (native engines
// first, emulation else), push each child by digest, and publish one index: the old children unchanged plus the new.
import {
  ImagespecError,
  isImagespecError,
  type BuildContextPlan,
  type BuilderContext,
  type BuilderEvent,
  type BuildRequest,
  type BuildResult,
  type PlatformOutcome,
} from '@imagespec/spec'
import type { IndexEntry, RegistryWriter } from '@imagespec/registry'
import type { DefaultBuilderDeps } from './default-builder.js'
import { samePlatform, type Assignment, type Fleet } from './fleet.js'
import type { BuildSettings } from './settings.js'

/** `linux/amd64,linux/arm64` → `['linux/amd64', 'linux/arm64']` (flytekit's comma list; blanks and repeats dropped). */
export function platformsOf(platform: string): string[] {
  return [
    ...new Set(
      platform
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    ),
  ]
}

/** What the tag holds for the wanted platforms, and the entries an updated index keeps. */
export interface TagState {
  /** Wanted platform → its child in the tag. */
  present: Map<string, IndexEntry>
  /** Entries to keep unchanged in the new index (present children and platforms not asked for). */
  keep: IndexEntry[]
  /** The tag's digest when it is an index already holding every wanted platform. */
  completeIndex?: string
}

/** Reads `imageName` and sorts its children into present / kept. With `force` nothing counts as present. */
async function readTag(
  writer: RegistryWriter,
  imageName: string,
  wanted: readonly string[],
  force: boolean,
  signal: AbortSignal,
): Promise<TagState> {
  const state: TagState = { present: new Map(), keep: [] }
  if (force) return state
  const doc = await writer.getManifest(imageName, { signal })
  if (!doc) return state
  const { entryPlatform } = await import('@imagespec/registry')
  const entries: IndexEntry[] = doc.manifests ?? [
    {
      mediaType: doc.mediaType,
      digest: doc.digest,
      size: doc.size,
      platform: await writer.manifestPlatform(imageName, doc, { signal }),
    },
  ]
  for (const entry of entries) {
    const platform = entryPlatform(entry)
    const wantedAs =
      platform && wanted.find((w) => samePlatform(w, platform) && !state.present.has(w))
    if (wantedAs) state.present.set(wantedAs, entry)
    state.keep.push(entry)
  }
  if (doc.manifests && state.present.size === wanted.length) state.completeIndex = doc.digest
  return state
}

export interface PlatformBuild {
  req: BuildRequest
  ctx: BuilderContext
  deps: DefaultBuilderDeps
  plan: BuildContextPlan
  settings: Partial<BuildSettings>
  secrets: Record<string, { src: string }>
  fleet: Fleet
  writer: RegistryWriter
}

/** `linux/arm64/v8` → `linux-arm64-v8` (for temporary names). */
const slug = (platform: string) => platform.replace(/[^a-z0-9]+/gi, '-')

/**
 * Builds the wanted platforms the tag lacks and publishes the index. Platforms build in parallel across engines
 * (each engine within its `maxBuilds`); an engine that turns out to be down is skipped with a warning and its
 * platform goes to another live engine; a failing build fails its platform with the step and log tail.
 */
export async function buildPlatforms(
  b: PlatformBuild,
  wanted: readonly string[],
): Promise<BuildResult> {
  const { req, ctx, writer } = b
  const state = await readTag(writer, req.imageName, wanted, req.force, ctx.signal)
  const platforms: Record<string, PlatformOutcome> = {}
  for (const [p, entry] of state.present) {
    platforms[p] = { status: 'present', digest: entry.digest }
    ctx.onEvent({ type: 'platform', platform: p, status: 'present', digest: entry.digest })
  }
  const missing = wanted.filter((p) => !state.present.has(p))
  if (missing.length === 0 && state.completeIndex)
    return { digest: state.completeIndex, platforms: ordered(wanted, platforms) }

  const built = new Map<string, IndexEntry>()
  const failures: { platform: string; error: unknown }[] = []
  const live = await b.fleet.live(ctx.onEvent)
  const assignments = b.fleet.assign(missing, live, req.imageName)
  await Promise.all(
    missing.map(async (platform) => {
      let assignment = assignments.get(platform)!
      for (;;) {
        try {
          const entry = await b.fleet.run(assignment.engine, () =>
            buildOne(b, platform, assignment),
          )
          built.set(platform, entry)
          platforms[platform] = {
            status: 'built',
            engine: assignment.engine.member.address,
            digest: entry.digest,
          }
          return
        } catch (error) {
          // Failover: an engine that cannot be reached any more gives its platform to another live engine.
          if (
            isImagespecError(error) &&
            error.code === 'E_ENGINE_UNAVAILABLE' &&
            !ctx.signal.aborted
          ) {
            b.fleet.markDown(assignment.engine)
            ctx.onEvent({
              type: 'notice',
              level: 'warn',
              text: `Engine ${assignment.engine.member.address} is unavailable and is skipped: ${error.message}`,
            })
            const others = await b.fleet.live(ctx.onEvent)
            if (others.length) {
              assignment = b.fleet.assign([platform], others, req.imageName).get(platform)!
              continue
            }
          }
          failures.push({ platform, error })
          return
        }
      }
    }),
  )
  if (failures.length) throw platformFailure(failures)

  const entries = [
    ...state.keep.filter(
      (e) => ![...built.keys()].some((p) => e.platform && samePlatform(p, platformText(e))),
    ),
    ...wanted.flatMap((p) => (built.has(p) ? [built.get(p)!] : [])),
  ]
  const { createIndex } = await import('@imagespec/registry')
  const index = createIndex(entries)
  const digest = await writer.putManifest(req.imageName, index, { signal: ctx.signal })
  ctx.onEvent({ type: 'pushed', ref: req.imageName, digest, size: index.body.length })
  return { digest, platforms: ordered(wanted, platforms) }
}

/** What `--dry-run` shows: per wanted platform, present in the tag or built on which engine. */
export async function planPlatforms(
  b: Omit<PlatformBuild, 'plan' | 'secrets'>,
  wanted: readonly string[],
) {
  const state = b.req.push
    ? await readTag(b.writer, b.req.imageName, wanted, b.req.force, b.ctx.signal)
    : { present: new Map() }
  const missing = wanted.filter((p) => !state.present.has(p))
  const assignments = missing.length
    ? b.fleet.assign(missing, await b.fleet.live(b.ctx.onEvent), b.req.imageName)
    : new Map<string, Assignment>()
  return Object.fromEntries(
    wanted.map((p) => {
      const a = assignments.get(p)
      return [
        p,
        a
          ? { status: 'build' as const, engine: a.engine.member.address, emulated: a.emulated }
          : { status: 'present' as const },
      ]
    }),
  )
}

const platformText = (e: IndexEntry) =>
  e.platform
    ? [e.platform.os, e.platform.architecture, e.platform.variant].filter(Boolean).join('/')
    : ''

function ordered(
  wanted: readonly string[],
  platforms: Record<string, PlatformOutcome>,
): Record<string, PlatformOutcome> {
  return Object.fromEntries(wanted.filter((p) => platforms[p]).map((p) => [p, platforms[p]!]))
}

/** One platform on one engine: build, push by digest (relay) or by a temporary tag, and the index entry. */
async function buildOne(
  b: PlatformBuild,
  platform: string,
  { engine, emulated }: Assignment,
): Promise<IndexEntry> {
  const { req, ctx, deps, settings } = b
  const member = engine.member
  const onEvent = (e: BuilderEvent) => ctx.onEvent({ ...e, platform })
  ctx.onEvent({ type: 'platform', platform, status: 'building', engine: member.address, emulated })
  const { parsePlatform } = await import('@imagespec/registry')
  const target = parsePlatform(platform)
  /** Reports the child built and pushed, and returns its index entry. */
  const built = (entry: IndexEntry): IndexEntry => {
    ctx.onEvent({
      type: 'platform',
      platform,
      status: 'built',
      engine: member.address,
      emulated,
      digest: entry.digest,
    })
    return entry
  }
  // What every build of the child passes, whoever pushes it.
  const buildOptions = async () => ({
    context: await deps.packContext(b.plan, req.loaded),
    platform,
    network: settings.network,
    secrets: b.secrets,
    auth: deps.auth,
    labels: settings.labels,
    signal: ctx.signal,
    onEvent,
  })
  if (member.pushesByDigest) {
    // A standalone buildkitd: its image exporter pushes the child by digest within the build (no tag, no relay).
    const [repository] = splitTag(req.imageName)
    const result = await member.build({
      ...(await buildOptions()),
      tags: [repository],
      push: true,
      pushByDigest: true,
    })
    const digest = result?.pushed?.at(-1)?.digest
    const doc = digest
      ? await b.writer.getManifest(`${repository}@${digest}`, { signal: ctx.signal })
      : undefined
    if (!doc)
      throw new ImagespecError(
        'E_PUSH_FAILED',
        `The ${platform} image of "${req.imageName}" is not in the registry after its push by digest`,
      )
    return built({ mediaType: doc.mediaType, digest: doc.digest, size: doc.size, platform: target })
  }
  // The base image's repository, when on the same registry, lends its layers: the relay mounts them instead of
  // letting the engine upload them (the engine's own mounts never apply to the relay's loopback name).
  const base = req.loaded.spec.base_image
  const relay = member.local
    ? await b.writer.pushRelay(req.imageName, {
        mountFrom: typeof base === 'string' ? [base] : [],
        onMount: (m) =>
          onEvent({
            type: 'push-progress',
            layer: m.digest.slice(m.digest.indexOf(':') + 1),
            status: `Mounted from ${m.from}`,
          }),
      })
    : undefined
  const [name, tag] = splitTag(req.imageName)
  const ref = relay?.reference ?? `${name}:${tag}-${slug(platform)}`
  try {
    await member.build({ ...(await buildOptions()), tags: [ref] })
    const pushed = (await member.push(ref, {
      auth: relay ? undefined : deps.auth,
      signal: ctx.signal,
      onEvent,
    })) as { digest?: string; size?: number } | undefined
    let entry: IndexEntry
    if (relay) {
      const last = relay.pushed.at(-1)
      if (!last)
        throw new ImagespecError(
          'E_PUSH_FAILED',
          `Push of the ${platform} image of "${req.imageName}" ended without a manifest`,
        )
      entry = { ...last, platform: target }
    } else {
      // A remote engine cannot reach the relay: it pushed a temporary tag, removed again where the registry allows.
      const doc = await b.writer.getManifest(`${name}@${pushed?.digest}`, { signal: ctx.signal })
      if (!doc)
        throw new ImagespecError(
          'E_PUSH_FAILED',
          `The ${platform} image of "${req.imageName}" is not in the registry after its push`,
        )
      entry = { mediaType: doc.mediaType, digest: doc.digest, size: doc.size, platform: target }
      if (!(await b.writer.deleteTag(ref, { signal: ctx.signal }).catch(() => false)))
        ctx.onEvent({
          type: 'notice',
          level: 'warn',
          text: `The registry keeps the temporary tag ${ref} (it does not delete tags)`,
        })
    }
    return built(entry)
  } finally {
    await relay?.close()
    await member.removeImage(ref).catch(() => false)
  }
}

function splitTag(imageName: string): [string, string] {
  const at = imageName.lastIndexOf(':')
  return at > imageName.lastIndexOf('/')
    ? [imageName.slice(0, at), imageName.slice(at + 1)]
    : [imageName, 'latest']
}

function platformFailure(failures: { platform: string; error: unknown }[]): ImagespecError {
  if (failures.length === 1 && isImagespecError(failures[0]!.error)) {
    const { platform, error } = failures[0]! as { platform: string; error: ImagespecError }
    return new ImagespecError(error.code, `${platform}: ${error.message}`, {
      cause: error,
      hint: error.hint,
      details: error.details,
    })
  }
  const first = failures.find((f) => isImagespecError(f.error))?.error as ImagespecError | undefined
  return new ImagespecError(
    first?.code ?? 'E_BUILD_FAILED',
    `Builds failed for ${failures.map((f) => f.platform).join(', ')}`,
    {
      cause: failures[0]!.error,
      details: failures.flatMap((f) => [
        `${f.platform}: ${f.error instanceof Error ? f.error.message : String(f.error)}`,
        ...(isImagespecError(f.error) ? f.error.details.map((d) => `  ${d}`) : []),
      ]),
    },
  )
}
