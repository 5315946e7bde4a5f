// Build and push progress events, emitted by the docker driver (and passed on by the builder) through `onEvent`.

/** One BuildKit step (a vertex of the build graph), e.g. `[2/3] COPY app/ /app/` or `[internal] load metadata …`. */
export interface BuildStep {
  /** The vertex digest (`sha256:…`), stable for one step within a build. */
  digest: string
  name: string
}

/** Counts of the steps of one build. */
export interface BuildStepSummary {
  total: number
  cached: number
}

export type BuildEvent =
  /** A step began running. */
  | { type: 'step-started'; step: BuildStep }
  /** A step was answered from the build cache (it does not run). */
  | { type: 'step-cached'; step: BuildStep }
  /** A step finished successfully. */
  | { type: 'step-completed'; step: BuildStep; durationMs?: number }
  /** A step failed (also sent for steps cancelled because another one failed). */
  | { type: 'step-error'; step: BuildStep; error: string }
  /** One line of a step's output, decoded as UTF-8, without the newline; secret values are replaced by `***`. */
  | { type: 'log'; step: BuildStep; stream: 'stdout' | 'stderr'; line: string }
  /** Progress of a step's sub-task, e.g. a layer download or `exporting layers`. */
  | { type: 'status'; step: BuildStep; id: string; current: number; total?: number; done: boolean }
  /** A warning from the build (BuildKit vertex warnings). */
  | { type: 'warning'; step?: BuildStep; message: string; detail: readonly string[]; url?: string }
  /** A plain message line from the engine, e.g. `Successfully tagged app:1`. */
  | { type: 'message'; text: string }
  /** The engine reported the id of the image it built. */
  | { type: 'image-id'; imageId: string }
  /** The build succeeded (always the last event of a successful build). */
  | {
      type: 'result'
      imageId: string
      tags: readonly string[]
      steps: BuildStepSummary
      durationMs: number
    }

export type PushEvent =
  /** Progress of one layer (or a general status line when `layer` is absent), e.g. `Pushing`, `Layer already exists`. */
  | { type: 'push-progress'; layer?: string; status: string; current?: number; total?: number }
  /** The registry accepted the manifest. */
  | { type: 'pushed'; ref: string; digest: string; size?: number }

/**
 * Per-platform progress of a build: a platform the tag already holds (`present`), one about to build (`building`,
 * with the engine and whether it runs under emulation), one built and pushed (`built`, with its child digest).
 */
export interface PlatformEvent {
  type: 'platform'
  platform: string
  status: 'present' | 'building' | 'built'
  /** The engine address (`unix://…`, `tcp://…`, `ssh://…`) building it. */
  engine?: string
  /** Built on an engine that does not declare the platform (QEMU emulation). */
  emulated?: boolean
  /** The platform's image manifest digest in the index. */
  digest?: string
}
