import { ImagespecError, str2bool } from '@imagespec/spec'
import type { ContextSettings } from './context.js'

type Env = Readonly<Record<string, string | undefined>>

/** Command-line flags that override the environment. `undefined` means "not given". */
export interface SettingsFlags {
  push?: boolean
  force?: boolean
  builder?: string
  platform?: string
  network?: string
  flytekitVersion?: string
  defaultPythonVersion?: string
  labels?: Record<string, string>
}

/** Every knob of a build, resolved from env and flags in one place. */
export interface BuildSettings {
  /** flytekit's FLYTE_PUSH_IMAGE_SPEC: push only when it is `true`/`1` (default), or `--push`/`--no-push`. */
  push: boolean
  /** FLYTE_FORCE_PUSH_IMAGE_SPEC (str2bool) or `--force`: rebuild and push although the image exists. */
  force: boolean
  /** FLYTE_IMG_FAST_FAIL (str2bool): fail instead of assuming the image exists when existence is unknown. */
  fastFail: boolean
  /** Builder name that overrides the spec's `builder` field (`--builder`). */
  builder?: string
  /** Platform that overrides the spec's `platform` (it is hashed: the tag changes with it). */
  platform?: string
  /** Build network mode: `host` from IMAGESPEC_BUILD_NETWORK or `--network`. */
  network?: string
  /** Labels put on the built image. */
  labels: Record<string, string>
  /**
   * Dockerfile and installer settings given by flags (flytekit version, default python, ...). They are not resolved
   * here: when a context is made, `resolveContextSettings(env, render)` reads the build's environment
   * (`IMAGESPEC_*`) under them, so that paths which build nothing never load the renderer and the installers.
   */
  render: Partial<ContextSettings>
}

export function resolveSettings(env: Env, flags: SettingsFlags = {}): BuildSettings {
  const network = flags.network ?? (env.IMAGESPEC_BUILD_NETWORK || undefined)
  if (network !== undefined && !/^[a-z0-9][a-z0-9_.-]*$/i.test(network))
    throw new ImagespecError('E_USAGE', `Invalid network mode "${network}"`, { hint: 'Use --network host' })
  return {
    push: flags.push ?? ['true', '1'].includes((env.FLYTE_PUSH_IMAGE_SPEC ?? 'True').toLowerCase()),
    force: flags.force ?? str2bool(env.FLYTE_FORCE_PUSH_IMAGE_SPEC),
    fastFail: str2bool(env.FLYTE_IMG_FAST_FAIL),
    builder: flags.builder,
    platform: flags.platform,
    network,
    labels: { ...flags.labels },
    render: {
      ...(flags.flytekitVersion !== undefined && { flytekitVersion: flags.flytekitVersion }),
      ...(flags.defaultPythonVersion !== undefined && { defaultPythonVersion: flags.defaultPythonVersion }),
    },
  }
}
