import semver from 'semver'
import { ImagespecError } from '@imagespec/spec'

/** The flytekit version pinned in `requirements_uv.txt` when none is configured (flytekit's release v1.16.24). */
export const DEFAULT_FLYTEKIT_VERSION = '1.16.24'
/** flytekit's default uv helper stage image (`builder_config.uv_image` overrides it). */
export const DEFAULT_UV_IMAGE = 'ghcr.io/astral-sh/uv:0.5.1'
/** flytekit's default micromamba helper stage image (`builder_config.micromamba_image` overrides it). */
export const DEFAULT_MICROMAMBA_IMAGE = 'mambaorg/micromamba:2.0.3-debian12-slim'

/**
 * flytekit's `get_flytekit_for_pypi()`: `flytekit` when the version is empty or contains `dev`,
 * else `flytekit==<version>`. PEP 440 versions that are not semver (`1.16.0b1`) are kept as given.
 */
export function flytekitRequirement(version: string): string {
  return !version || version.includes('dev') ? 'flytekit' : `flytekit==${version}`
}

/** flytekit's `_is_flytekit`: the leading `[\w-]+` run of the raw string is exactly `flytekit`. */
export function isFlytekit(requirement: string): boolean {
  return /^[\p{L}\p{N}_-]+/u.exec(requirement)?.[0] === 'flytekit'
}

/** Validates and normalises a configured flytekit version (`v1.2.3` -> `1.2.3`); `dev` versions pass unchanged. */
export function normalizeFlytekitVersion(raw: string): string {
  const v = raw.trim()
  if (v.includes('dev')) return v
  if (!/^v?[0-9][0-9A-Za-z.+!-]*$/.test(v))
    throw new ImagespecError('E_CONFIG_INVALID', `Invalid flytekit version "${raw}"`, {
      hint: 'Use a release version such as 1.16.24 (IMAGESPEC_FLYTEKIT_VERSION or --flytekit-version).',
    })
  return semver.valid(v) ? semver.clean(v)! : v
}

export interface InstallerSettings {
  flytekitVersion: string
  /**
   * Base image of the pip installer when the spec sets no `base_image` (it needs a Python in the base);
   * `{python_version}` is replaced. Default `python:{python_version}-slim`; env `IMAGESPEC_PIP_BASE_IMAGE`.
   */
  pipBaseImage: string
}

export const DEFAULT_PIP_BASE_IMAGE = 'python:{python_version}-slim'

/** Reads `IMAGESPEC_FLYTEKIT_VERSION` (default `DEFAULT_FLYTEKIT_VERSION`) and `IMAGESPEC_PIP_BASE_IMAGE`. */
export function resolveInstallerSettings(
  env: Record<string, string | undefined>,
  overrides: Partial<InstallerSettings> = {},
): InstallerSettings {
  const raw =
    overrides.flytekitVersion ?? env.IMAGESPEC_FLYTEKIT_VERSION ?? DEFAULT_FLYTEKIT_VERSION
  const pipBaseImage =
    overrides.pipBaseImage ?? (env.IMAGESPEC_PIP_BASE_IMAGE || DEFAULT_PIP_BASE_IMAGE)
  if (!/^[^\s\\]+$/.test(pipBaseImage))
    throw new ImagespecError(
      'E_CONFIG_INVALID',
      `Invalid pip base image ${JSON.stringify(pipBaseImage)}`,
      {
        hint: 'An image reference, e.g. python:{python_version}-slim (IMAGESPEC_PIP_BASE_IMAGE)',
      },
    )
  return { flytekitVersion: normalizeFlytekitVersion(raw), pipBaseImage }
}
