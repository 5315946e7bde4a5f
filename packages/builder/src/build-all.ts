// Building many specs (every ImageSpec of a project): each distinct image once, nested bases first, several at a time.
import type { ImageSpec, LoadedSpec } from '@imagespec/spec'
import type { BuildOptions, BuildOutcome, Engine } from './engine.js'

export interface BuildAllOptions extends BuildOptions {
  /** Builds running at once (default 2). Each goes through `engine.build`, with its per-image lock and checks. */
  concurrency?: number
}

/** What happened to one distinct image. */
export interface BuildAllEntry {
  loaded: LoadedSpec
  imageName: string
  /** Names of the images (nested bases) built before this one. */
  bases: string[]
  /** `done`: built, skipped as existing, or (dry run) described; `failed`: its build threw; `blocked`: a base failed. */
  status: 'done' | 'failed' | 'blocked'
  outcome?: BuildOutcome
  error?: unknown
  /** The failed base that blocked it. */
  blockedBy?: string
}

const withSpec = (loaded: LoadedSpec, spec: Partial<ImageSpec>): LoadedSpec => ({
  ...loaded,
  spec: { ...loaded.spec, ...spec },
})

/**
 * Builds every spec through `engine.build` (so each gets the engine's normal path: should-build, lock, builder,
 * push). Specs that name the same image are built once; a nested `base_image` spec is its own entry, finished before
 * the images on it start; independent images build `concurrency` at a time. A failure does not stop the others,
 * only the images on top of it (`blocked`). Entries come bases first, then in the order given.
 */
export async function buildAll(
  engine: Engine,
  specs: readonly LoadedSpec[],
  opts: BuildAllOptions = {},
): Promise<BuildAllEntry[]> {
  const platform = opts.settings?.platform
  const entries = new Map<string, BuildAllEntry>()
  const add = async (input: LoadedSpec): Promise<string> => {
    const loaded = platform ? withSpec(input, { platform }) : input
    const base = loaded.spec.base_image
    const bases =
      base !== null && typeof base === 'object' ? [await add(withSpec(loaded, base))] : []
    const imageName = await engine.imageName(loaded)
    if (!entries.has(imageName))
      entries.set(imageName, { loaded: input, imageName, bases, status: 'done' })
    return imageName
  }
  for (const s of specs) await add(s)

  const limit = Math.max(1, Math.floor(opts.concurrency ?? 2))
  const finished = new Map<string, Promise<BuildAllEntry>>()
  let running = 0
  const waiting: (() => void)[] = []
  const slot = async () => {
    while (running >= limit) await new Promise<void>((r) => waiting.push(r))
    running++
  }
  const free = () => {
    running--
    waiting.shift()?.()
  }
  const run = (entry: BuildAllEntry): Promise<BuildAllEntry> => {
    let p = finished.get(entry.imageName)
    if (!p) {
      p = (async () => {
        for (const b of entry.bases) {
          const base = await run(entries.get(b)!)
          if (base.status !== 'done') {
            entry.status = 'blocked'
            entry.blockedBy = base.blockedBy ?? base.imageName
            return entry
          }
        }
        await slot()
        try {
          opts.signal?.throwIfAborted()
          entry.outcome = await engine.build(entry.loaded, opts)
        } catch (error) {
          entry.status = 'failed'
          entry.error = error
        } finally {
          free()
        }
        return entry
      })()
      finished.set(entry.imageName, p)
    }
    return p
  }
  await Promise.all([...entries.values()].map(run))
  return [...entries.values()]
}
