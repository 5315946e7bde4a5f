// The public context functions load ./context.js (the Dockerfile renderer and the installers) on first call, so that
// importing @imagespec/builder for a probe or an already-built image loads neither.
import type { BuildContextPlan, LoadedSpec } from '@imagespec/spec'
import type { SpecCheck } from './check.js'
import type { ContextSettings } from './context.js'

type Env = Readonly<Record<string, string | undefined>>

const context = () => import('./context.js')

/**
 * Settings from the environment (`IMAGESPEC_FLYTEKIT_VERSION`, `IMAGESPEC_DEFAULT_PYTHON_VERSION`,
 * `IMAGESPEC_DOCKERFILE_SYNTAX`, `IMAGESPEC_CUDA_IMAGE`, `IMAGESPEC_COMPAT`), then `overrides` (CLI flags) on top;
 * throws `E_CONFIG_INVALID` for a bad value.
 */
export async function resolveContextSettings(
  env: Env,
  overrides: Partial<ContextSettings> = {},
): Promise<ContextSettings> {
  return (await context()).resolveContextSettings(env, overrides)
}

/**
 * The build context of a spec as data: the Dockerfile text and the files to place (sources are checked, not read).
 * Pass it to `writeContext` or `packContext` from @imagespec/dockerfile.
 */
export async function createContextPlan(
  loaded: LoadedSpec,
  settings: Partial<ContextSettings> = {},
): Promise<BuildContextPlan> {
  return (await context()).createContextPlan(loaded, settings)
}

/**
 * flytekit's create_docker_context: writes the context to `dir` file by file in flytekit's order, then the
 * `Dockerfile`. When an error fires, the files placed before it stay (as in flytekit).
 */
export async function createDockerContext(
  loaded: LoadedSpec,
  dir: string,
  settings: Partial<ContextSettings> = {},
): Promise<BuildContextPlan> {
  return (await context()).createDockerContext(loaded, dir, settings)
}

/**
 * Runs every check render and build run on a spec, without building (see check.ts): `imagespec validate`, `render`
 * and `build --dry-run` share it. With `out`, the context is written there.
 */
export async function checkSpec(
  loaded: LoadedSpec,
  settings: Partial<ContextSettings> = {},
  opts: { out?: string } = {},
): Promise<SpecCheck> {
  return (await import('./check.js')).checkSpec(loaded, settings, opts)
}

/** Warnings about the spec itself: unsupported fields, a python_version YAML read as a number. */
export async function specWarnings(spec: LoadedSpec['spec']): Promise<string[]> {
  return (await import('./check.js')).specWarnings(spec)
}
