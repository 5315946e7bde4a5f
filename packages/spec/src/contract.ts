// The builder plugin contract: what an image builder (the built-in `default` and `noop`, or a third-party
// package) implements, and what the engine in @imagespec/builder hands it. Alternative builders depend on
// @imagespec/spec alone.
import type { BuildEvent, PlatformEvent, PushEvent } from './events.js'
import type { Logger } from './logger.js'
import type { LoadedSpec } from './types.js'

/** Bumped on any breaking change of this contract; the engine refuses plugins declaring another version. */
export const BUILDER_CONTRACT_VERSION = 1 as const

/** What a builder can do, declared as data: shared code reads these and never compares builder names. */
export interface BuilderCapabilities {
  /** `RUN --mount=type=cache` is honoured (otherwise the renderer drops cache mounts). */
  cacheMounts: boolean
  /** `pip_secret_mounts` are served to the build as secrets. */
  secrets: boolean
  /** More than one platform in `platform`. */
  multiPlatform: boolean
  /** The builder pushes to `registry` itself. */
  push: boolean
}

/**
 * A user-visible line (flytekit's "Image … found. Skip building.", "Run command: …", warnings). Builders emit
 * these through `ctx.onEvent`; the CLI prints `text` verbatim (messages on stdout, warnings on stderr).
 */
export interface BuilderMessage {
  type: 'notice'
  level: 'info' | 'warn' | 'error'
  text: string
}

/**
 * Everything a builder may report: its own lines, per-platform progress, and the engine's build and push progress.
 * Events of one platform's build of a multi-platform image carry that `platform`.
 */
export type BuilderEvent = (BuilderMessage | BuildEvent | PushEvent | PlatformEvent) & {
  platform?: string
}

/** What a build did for one platform: built now (on `engine`), or already present in the tag. */
export interface PlatformOutcome {
  status: 'built' | 'present'
  engine?: string
  /** The platform's image manifest digest, when known. */
  digest?: string
}

/** Per-build facilities the engine hands a builder. */
export interface BuilderContext {
  /** Aborted on Ctrl-C: a builder cancels its work and removes its temporary state. */
  signal: AbortSignal
  onEvent(event: BuilderEvent): void
  logger: Logger
  /** The environment the build runs with (flytekit's env vars, IMAGESPEC_*). */
  env: Readonly<Record<string, string | undefined>>
}

/** One build: the spec (nested base specs already replaced by their image names) and the engine's decisions. */
export interface BuildRequest {
  loaded: LoadedSpec
  /** The image name the engine computed (`imageName()`), tag included. */
  imageName: string
  /** Push after building (registry set and `FLYTE_PUSH_IMAGE_SPEC` not disabling it, or `--push`/`--no-push`). */
  push: boolean
  /** Rebuild and push even though the image exists (`FLYTE_FORCE_PUSH_IMAGE_SPEC`, `--force`). */
  force: boolean
  /** Builder-specific settings resolved from flags and env (e.g. network mode, flytekit version). */
  settings: Readonly<Record<string, unknown>>
  /**
   * flytekit's `id` of the spec as the user wrote it, for `_F_IMG_ID`: computed before a nested `base_image` spec is
   * replaced by its image name (so it hashes the nested dict, as flytekit's engine path does; vector 23).
   */
  imageId?: string
}

export interface BuildResult {
  /** The real fully qualified name of what was built, when it differs from `imageName` (flytekit's return value). */
  imageName?: string
  /** The pushed manifest or index digest (else the local image id). */
  digest?: string
  /** Per platform (`os/arch[/variant]`): built or present, and where. */
  platforms?: Record<string, PlatformOutcome>
}

export interface BuilderPlugin {
  readonly name: string
  readonly contractVersion: typeof BUILDER_CONTRACT_VERSION
  /** Used when the spec names no builder: the highest priority wins (flytekit: default 1, noop 0, others 5). */
  readonly priority?: number
  readonly capabilities: BuilderCapabilities
  /** Whether to build at all. Without it the engine applies flytekit's existence rules (exists / force / fast fail). */
  shouldBuild?(loaded: LoadedSpec, ctx: BuilderContext): Promise<boolean>
  build(req: BuildRequest, ctx: BuilderContext): Promise<BuildResult>
  /** For `--dry-run`: what `build` would do (the Dockerfile, the engine call), touching nothing. */
  describe?(req: BuildRequest, ctx: BuilderContext): Promise<BuildDescription>
}

export interface BuildDescription {
  /** Per platform: present in the tag, or to build on which engine (`--dry-run`'s plan). */
  platforms?: Record<string, { status: 'present' | 'build'; engine?: string; emulated?: boolean }>
  dockerfile?: string
  /** The engine call as a command line, e.g. `docker build --tag … --platform linux/amd64 -`. */
  command?: string
}

/**
 * Declares a builder. A plugin module's default export is the factory this returns:
 * `export default defineBuilder((opts) => ({ name: 'kaniko', contractVersion: 1, capabilities, build }))`.
 */
export function defineBuilder<O = void>(
  factory: (options: O) => BuilderPlugin,
): (options: O) => BuilderPlugin {
  return factory
}

/** The shape check the engine applies to anything it loads. */
export function isBuilderPlugin(value: unknown): value is BuilderPlugin {
  const p = value as Partial<BuilderPlugin> | null
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.name === 'string' &&
    p.name.length > 0 &&
    p.contractVersion === BUILDER_CONTRACT_VERSION &&
    typeof p.build === 'function' &&
    (p.shouldBuild === undefined || typeof p.shouldBuild === 'function') &&
    (p.priority === undefined || typeof p.priority === 'number') &&
    typeof p.capabilities === 'object' &&
    p.capabilities !== null
  )
}
