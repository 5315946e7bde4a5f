import type {
  BuildDescription,
  BuilderContext,
  BuilderEvent,
  BuilderPlugin,
  LoadedSpec,
  Logger,
  PlatformOutcome,
} from '@imagespec/spec'
import { buildOne, type BuildRun } from './_build.js'
import { BuilderRegistry } from './_builders.js'
import { imageNameOf } from './_identity.js'
import { probeSpec, type ExistsAnswer } from './exists.js'
import { defaultBuilder, type DefaultBuilderDeps } from './default-builder.js'
import type { ModuleImporter } from './load-builder.js'
import { noopBuilder } from './noop-builder.js'
import { resolveSettings, type BuildSettings } from './settings.js'

type Env = Readonly<Record<string, string | undefined>>

/** flytekit's `ImageSpec.exist()`: does `imageName` exist (in the registry, or the local image store)? */
export type ExistsFn = (
  imageName: string,
  loaded: LoadedSpec,
  signal: AbortSignal,
) => Promise<ExistsAnswer>

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
  logger?: Logger
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
  /** The image's digest: the pushed manifest or index, the one found when skipped, else the local image id. */
  digest?: string
  /** Per platform of the spec: built (and on which engine) or present. */
  platforms?: Record<string, PlatformOutcome>
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
  loadBuilder(
    specifier: string,
    fromDirs: readonly string[],
    priority?: number,
  ): Promise<BuilderPlugin>
  /** The spec's image name, through the name map (flytekit's `image_name()`); `loadedModules` as in the context settings. */
  imageName(loaded: LoadedSpec, loadedModules?: readonly string[]): Promise<string>
  /** flytekit's `ImageBuildEngine.build`: nested bases first, then choose a builder, should-build, build. */
  build(loaded: LoadedSpec, options?: BuildOptions): Promise<BuildOutcome>
}

export function createEngine(options: EngineOptions = {}): Engine {
  const builders = new BuilderRegistry(options.importModule)
  const run: BuildRun = {
    builders,
    nameMap: new Map<string, string>(),
    exists: options.exists ?? probeSpec,
    lockDir: options.lockDir,
  }
  if (options.builtins !== false) {
    builders.register(defaultBuilder(options.defaultBuilder ?? {}), 1)
    builders.register(noopBuilder(), 0)
  }

  return {
    register: (plugin, priority) => builders.register(plugin, priority),
    builders: () => builders.entries,
    nameMap: run.nameMap,
    getBuilder: (name, fromDirs = [process.cwd()]) => builders.get(name, fromDirs),
    loadBuilder: (specifier, fromDirs, priority) => builders.load(specifier, fromDirs, priority),
    imageName: (loaded, loadedModules) => imageNameOf(loaded, run.nameMap, loadedModules),
    async build(loaded, opts = {}) {
      const env = opts.env ?? process.env
      const settings = opts.settings ?? resolveSettings(env)
      const ctx: BuilderContext = {
        signal: opts.signal ?? new AbortController().signal,
        onEvent: opts.onEvent ?? (() => undefined),
        logger: opts.logger ?? { debug: () => undefined },
        env,
      }
      return buildOne(run, loaded, settings.builder, settings, ctx, opts.dryRun ?? false)
    },
  }
}
