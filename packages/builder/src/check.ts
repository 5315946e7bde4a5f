// One code path decides whether a spec is good: `imagespec validate`, `render` and `build --dry-run` all run it, so
// their answers cannot drift apart. It runs what a build runs before it reaches the engine: nested base specs first
// (as the engine builds them), the tag (requirements and copy mode), then flytekit's create_docker_context (the
// Dockerfile safety rules, copy entries, lock-file rules, python_exec, cuda/cudnn, pip_secret_mounts sources).
import {
  computeId,
  createSourceWalks,
  PyFloat,
  pyStr,
  type BuildContextPlan,
  type ImageSpec,
  type LoadedSpec,
} from '@imagespec/spec'
import { imageNameOf } from './_identity.js'
import { createContextPlan, createDockerContext, type ContextSettings } from './context.js'
import { unsupportedWarning } from './default-builder.js'

/** What `checkSpec` found: the image name, the context plan and every warning, in the order they were raised. */
export interface SpecCheck {
  imageName: string
  plan: BuildContextPlan
  warnings: string[]
  /** Checks of nested `base_image` specs, innermost first. */
  bases: SpecCheck[]
}

const withSpec = (loaded: LoadedSpec, patch: Partial<ImageSpec>): LoadedSpec => ({
  ...loaded,
  spec: { ...loaded.spec, ...patch },
})

/**
 * Warnings about the spec itself (not raised by flytekit's create_docker_context): fields the default builder ignores,
 * and a `python_version` that YAML read as a number (`3.10` becomes `3.1`).
 */
export function specWarnings(spec: ImageSpec): string[] {
  const out: string[] = []
  const unsupported = unsupportedWarning(spec)
  if (unsupported) out.push(unsupported)
  const v = spec.python_version
  if (v instanceof PyFloat || typeof v === 'number')
    out.push(
      `python_version ${pyStr(v)} is a number, not a string (YAML reads 3.10 as 3.1): quote the version, e.g. python_version: "3.10"`,
    )
  return out
}

/**
 * Runs every check `render` and `build` run on a spec, without building: nested base specs (each checked, then
 * replaced by its image name as the engine does), the tag, and the build context. With `out`, the context is
 * written there (flytekit's create_docker_context); otherwise sources are only checked. Throws the first problem
 * (`E_SPEC_INVALID`, `E_CONTEXT`, ...) exactly as render and build would; warnings go to `settings.onWarning` too.
 */
export async function checkSpec(
  loaded: LoadedSpec,
  settings: Partial<ContextSettings> = {},
  opts: { out?: string } = {},
): Promise<SpecCheck> {
  const warnings: string[] = []
  const warn = (m: string) => {
    warnings.push(m)
    settings.onWarning?.(m)
  }
  const bases: SpecCheck[] = []
  const imageId = settings.imageId ?? computeId(loaded.spec)
  let current = loaded
  const base = loaded.spec.base_image
  if (base !== null && typeof base === 'object') {
    const inner = await checkSpec(withSpec(loaded, base), {
      ...settings,
      imageId: undefined,
      onWarning: (m) => warn(`base_image: ${m}`),
    })
    bases.push(...inner.bases, inner)
    current = withSpec(loaded, { base_image: inner.imageName })
  }
  specWarnings(current.spec).forEach(warn)
  // The tag and the context run side by side: the tag hashes source_root in this thread while the context's files
  // are written on the writer's thread. They list source_root once between them (git and the walk run once). Every
  // reader refuses what must never be opened (a FIFO requirements path, special files in a tree) before it opens it,
  // and the tag's error, when both fail, is the one thrown, as when the tag ran first.
  const sourceWalks = settings.sourceWalks ?? createSourceWalks()
  const contextSettings = { ...settings, imageId, onWarning: warn, sourceWalks }
  // The context starts first: when the shared walk ends, its files go to the writer thread before hashing begins.
  const context =
    opts.out === undefined
      ? createContextPlan(current, contextSettings)
      : createDockerContext(current, opts.out, contextSettings)
  const tag = imageNameOf(current, undefined, settings.loadedModules, sourceWalks)
  const [name, plan] = await Promise.allSettled([tag, context])
  if (name.status === 'rejected') throw name.reason
  if (plan.status === 'rejected') throw plan.reason
  return { imageName: name.value, plan: plan.value, warnings, bases }
}
