// flytekit's `ImageBuildEngine.build` for one spec: nested base specs first, then the builder, the should-build
// decision (the builder's own, else the existence check and flytekit's policy), and the build under the image lock.
import { platformsOf } from './_platforms.js'
import {
  computeId,
  EXPLAIN_LABEL,
  explainLabel,
  explainSpec,
  type BuilderContext,
  type BuilderEvent,
  type BuildRequest,
  type ImageSpec,
  type LoadedSpec,
} from '@imagespec/spec'
import type { BuilderRegistry } from './_builders.js'
import { imageNameOf } from './_identity.js'
import { withImageLock } from './_lock.js'
import { decide, existMessages } from './_policy.js'
import type { BuildOutcome, ExistsFn } from './engine.js'
import type { BuildSettings } from './settings.js'

/** What every build of one engine shares. */
export interface BuildRun {
  builders: BuilderRegistry
  /** flytekit's `_IMAGE_NAME_TO_REAL_NAME`. */
  nameMap: Map<string, string>
  exists: ExistsFn
  lockDir?: string
}

const withSpec = (loaded: LoadedSpec, patch: Partial<ImageSpec>): LoadedSpec => ({
  ...loaded,
  spec: { ...loaded.spec, ...patch },
})

/** Directories a builder module named by a spec is resolved from: the spec's working directory (`LoadedSpec.cwd`), then the process cwd. */
const moduleDirs = (loaded: LoadedSpec): string[] => [...new Set([loaded.cwd, process.cwd()])]

export async function buildOne(
  run: BuildRun,
  input: LoadedSpec,
  builderName: string | undefined,
  settings: BuildSettings,
  ctx: BuilderContext,
  dryRun: boolean,
): Promise<BuildOutcome> {
  let loaded = settings.platform ? withSpec(input, { platform: settings.platform }) : input
  const modules = settings.render.loadedModules
  const bases: BuildOutcome[] = []
  const imageId = computeId(loaded.spec)
  const base = loaded.spec.base_image
  if (base !== null && typeof base === 'object') {
    const outcome = await buildOne(run, withSpec(loaded, base), undefined, settings, ctx, dryRun)
    bases.push(outcome)
    loaded = withSpec(loaded, {
      base_image: await imageNameOf(withSpec(loaded, base), run.nameMap, modules),
    })
  }
  const img = await imageNameOf(loaded, run.nameMap, modules)
  const plugin = await run.builders.get(builderName ?? loaded.spec.builder, moduleDirs(loaded))
  const force = settings.force || loaded.forcePush
  const req: BuildRequest = {
    loaded,
    imageName: img,
    push: settings.push,
    force,
    settings: { ...settings },
    imageId,
  }
  const outcome: BuildOutcome = {
    imageName: img,
    builder: plugin.name,
    build: true,
    reason: [],
    bases,
  }
  const say = (events: BuilderEvent[]) => {
    for (const e of events) {
      if (e.type === 'notice') outcome.reason.push(e.text)
      ctx.onEvent(e)
    }
  }

  if (plugin.shouldBuild) {
    outcome.build = await plugin.shouldBuild(loaded, ctx)
  } else {
    const answer = await run.exists(img, loaded, ctx.signal)
    say(existMessages(answer))
    const decision = decide(img, answer, { force, fastFail: settings.fastFail || loaded.fastFail })
    say(decision.messages)
    if (decision.error) throw decision.error
    outcome.build = decision.build
    if (answer.digest) outcome.digest = answer.digest
  }
  if (!outcome.build) {
    outcome.platforms = Object.fromEntries(
      platformsOf(loaded.spec.platform).map((p) => [p, { status: 'present' as const }]),
    )
    return outcome
  }
  if (dryRun) {
    outcome.description = await plugin.describe?.(req, ctx)
    return outcome
  }

  const result = await withImageLock(
    img,
    async (waited) => {
      // Another process held the lock: it may have built the image meanwhile.
      if (
        waited &&
        !plugin.shouldBuild &&
        !force &&
        (await run.exists(img, loaded, ctx.signal)).status === 'exists'
      ) {
        say([{ type: 'notice', level: 'info', text: `Image ${img} found. Skip building.` }])
        outcome.build = false
        return undefined
      }
      // What `imagespec explain --against <image>` compares with: field hashes and file digests, no values.
      const explained = await explainSpec(loaded, { loadedModules: modules })
      const labels = { ...settings.labels, [EXPLAIN_LABEL]: explainLabel(explained) }
      return plugin.build({ ...req, settings: { ...req.settings, labels } }, ctx)
    },
    { dir: run.lockDir, signal: ctx.signal },
  )
  if (result?.digest !== undefined) outcome.digest = result.digest
  if (result?.platforms !== undefined) outcome.platforms = result.platforms
  if (result?.imageName !== undefined) {
    run.nameMap.set(img, result.imageName)
    outcome.realName = result.imageName
  }
  return outcome
}
