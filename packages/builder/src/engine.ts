import {
  ImagespecError,
  computeId,
  type BuildDescription,
  type BuilderContext,
  type BuilderEvent,
  type BuilderLogger,
  type BuilderPlugin,
  type BuildRequest,
  type ImageSpec,
  type LoadedSpec,
} from '@imagespec/spec'
import { imageNameOf } from './_identity.js'
import { withImageLock } from './_lock.js'
import { decide, existMessages, type ExistsAnswer } from './_policy.js'
import { defaultBuilder, type DefaultBuilderDeps } from './default-builder.js'
import { loadBuilder, type ModuleImporter } from './load-builder.js'
import { noopBuilder } from './noop-builder.js'
import { resolveSettings, type BuildSettings } from './settings.js'

type Env = Readonly<Record<string, string | undefined>>

/** flytekit's `ImageSpec.exist()`: does `imageName` exist (in the registry, or the local image store)? */
export type ExistsFn = (imageName: string, loaded: LoadedSpec, signal: AbortSignal) => Promise<ExistsAnswer>

export interface EngineOptions {
  /** Register `default` (priority 1) and `noop` (priority 0). Default: true. */
  builtins?: boolean
  /** Existence check; default: registry probe when the spec has a registry, else the local engine's image store. */
  exists?: ExistsFn
  /** Services of the default builder (tests inject a recording driver). */
  defaultBuilder?: Partial<DefaultBuilderDeps>
  /** Directory of the per-machine build locks. */
  lockDir?: string
  /**
   * Imports a builder module by file URL (default: `import()`). A host that runs this package from a bundle compiled
   * outside Node's module loader (the `imagespec` binary) passes its own `import()`.
   */
  importModule?: ModuleImporter
}

export interface BuildOptions {
  settings?: BuildSettings
  env?: Env
  signal?: AbortSignal
  onEvent?: (event: BuilderEvent) => void
  logger?: BuilderLogger
  /** Decide and describe, but build, push and lock nothing (`--dry-run`). */
  dryRun?: boolean
}

export interface BuildOutcome {
  imageName: string
  builder: string
  /** Whether the builder ran (or, in a dry run, would run). */
  build: boolean
  /** flytekit's should-build lines: why it builds or skips. */
  reason: string[]
  /** The name recorded in the name map when the builder returned a real one. */
  realName?: string
  /** Outcomes of nested base_image specs, built first. */
  bases: BuildOutcome[]
  /** Dry run only: what the builder would do. */
  description?: BuildDescription
}

export interface Engine {
  /** Registers (or replaces) a builder; priority defaults to the plugin's, else 5 (flytekit's default). */
  register(plugin: BuilderPlugin, priority?: number): void
  /** Registered builders with their priorities. */
  builders(): ReadonlyMap<string, { plugin: BuilderPlugin; priority: number }>
  /** flytekit's `_IMAGE_NAME_TO_REAL_NAME`: image name -> real name returned by a builder. */
  readonly nameMap: Map<string, string>
  /**
   * The builder for `name` (a registered name, else a module loaded from `fromDirs`), or the highest-priority one
   * when `name` is empty.
   */
  getBuilder(name?: string | null, fromDirs?: readonly string[]): Promise<BuilderPlugin>
  /** Loads a builder module (package name or path) and registers it. */
  loadBuilder(specifier: string, fromDirs: readonly string[], priority?: number): Promise<BuilderPlugin>
  /** The spec's image name, through the name map (flytekit's `image_name()`). */
  imageName(loaded: LoadedSpec): Promise<string>
  /** flytekit's `ImageBuildEngine.build`: nested bases first, then choose a builder, should-build, build. */
  build(loaded: LoadedSpec, options?: BuildOptions): Promise<BuildOutcome>
}

const withSpec = (loaded: LoadedSpec, patch: Partial<ImageSpec>): LoadedSpec => ({
  ...loaded,
  spec: { ...loaded.spec, ...patch },
})

/** Directories a builder module named by a spec is resolved from: the spec file's directory, then the cwd. */
const moduleDirs = (loaded: LoadedSpec): string[] => [...new Set([loaded.cwd, process.cwd()])]

export function createEngine(options: EngineOptions = {}): Engine {
  const registry = new Map<string, { plugin: BuilderPlugin; priority: number }>()
  const aliases = new Map<string, string>()
  const nameMap = new Map<string, string>()
  const exists: ExistsFn =
    options.exists ?? (async (img, loaded, signal) => (await import('./_services.js')).probeSpec(img, loaded, signal))

  const register = (plugin: BuilderPlugin, priority?: number) => {
    registry.set(plugin.name, { plugin, priority: priority ?? plugin.priority ?? 5 })
  }
  if (options.builtins !== false) {
    register(defaultBuilder(options.defaultBuilder ?? {}), 1)
    register(noopBuilder(), 0)
  }

  const engine: Engine = {
    register,
    builders: () => registry,
    nameMap,
    async getBuilder(name, fromDirs = [process.cwd()]) {
      if (!name) {
        if (registry.size === 0)
          throw new ImagespecError('E_BUILDER_NOT_FOUND', 'There is no image builder registered.')
        return [...registry.values()].reduce((a, b) => (b.priority > a.priority ? b : a)).plugin
      }
      const entry = registry.get(name) ?? registry.get(aliases.get(name) ?? '')
      if (entry) return entry.plugin
      return engine.loadBuilder(name, fromDirs)
    },
    async loadBuilder(specifier, fromDirs, priority) {
      const plugin = await loadBuilder(specifier, fromDirs, undefined, options.importModule)
      register(plugin, priority)
      aliases.set(specifier, plugin.name)
      return plugin
    },
    imageName: (loaded) => imageNameOf(loaded, nameMap),
    async build(loaded, opts = {}) {
      const env = opts.env ?? process.env
      const settings = opts.settings ?? resolveSettings(env)
      const ctx: BuilderContext = {
        signal: opts.signal ?? new AbortController().signal,
        onEvent: opts.onEvent ?? (() => undefined),
        logger: opts.logger ?? { debug: () => undefined },
        env,
      }
      return buildOne(loaded, settings.builder, settings, ctx, opts.dryRun ?? false)
    },
  }

  async function buildOne(
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
      const outcome = await buildOne(withSpec(loaded, base), undefined, settings, ctx, dryRun)
      bases.push(outcome)
      loaded = withSpec(loaded, { base_image: await imageNameOf(withSpec(loaded, base), nameMap, modules) })
    }
    const img = await imageNameOf(loaded, nameMap, modules)
    const plugin = await engine.getBuilder(builderName ?? loaded.spec.builder, moduleDirs(loaded))
    const force = settings.force || loaded.forcePush
    const req: BuildRequest = { loaded, imageName: img, push: settings.push, force, settings: { ...settings }, imageId }
    const outcome: BuildOutcome = { imageName: img, builder: plugin.name, build: true, reason: [], bases }
    const say = (events: BuilderEvent[]) => {
      for (const e of events) {
        if (e.type === 'notice') outcome.reason.push(e.text)
        ctx.onEvent(e)
      }
    }

    if (plugin.shouldBuild) {
      outcome.build = await plugin.shouldBuild(loaded, ctx)
    } else {
      const answer = await exists(img, loaded, ctx.signal)
      say(existMessages(answer))
      const decision = decide(img, answer, { force, fastFail: settings.fastFail || loaded.fastFail })
      say(decision.messages)
      if (decision.error) throw decision.error
      outcome.build = decision.build
    }
    if (!outcome.build) return outcome
    if (dryRun) {
      outcome.description = await plugin.describe?.(req, ctx)
      return outcome
    }

    const result = await withImageLock(
      img,
      async (waited) => {
        // Another process held the lock: it may have built the image meanwhile.
        if (waited && !plugin.shouldBuild && !force && (await exists(img, loaded, ctx.signal)).status === 'exists') {
          say([{ type: 'notice', level: 'info', text: `Image ${img} found. Skip building.` }])
          outcome.build = false
          return undefined
        }
        return plugin.build(req, ctx)
      },
      { dir: options.lockDir, signal: ctx.signal },
    )
    if (result?.imageName !== undefined) {
      nameMap.set(img, result.imageName)
      outcome.realName = result.imageName
    }
    return outcome
  }

  return engine
}
