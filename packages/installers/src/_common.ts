import { readFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import {
  checkRequirementsFile,
  ImagespecError,
  type HelperStage,
  type ImageSpec,
  type RunMount,
  type SecretMount,
} from '@imagespec/spec'
import {
  DEFAULT_MICROMAMBA_IMAGE,
  DEFAULT_UV_IMAGE,
  flytekitRequirement,
  isFlytekit,
} from './flytekit.js'
import { shellQuote } from './_shell.js'
import type { InstallerContext } from './types.js'

/**
 * `builder_config[key]` when it names an image (flytekit reads only `uv_image` and `micromamba_image`), else the
 * default. `null` (YAML `~`) takes the default with a warning: flytekit would write `FROM None`, which cannot build.
 */
function configuredImage(
  spec: ImageSpec,
  key: string,
  fallback: string,
  ctx: InstallerContext,
): string {
  const v = spec.builder_config?.[key]
  if (v === undefined) return fallback
  if (v === null) {
    ctx.warn(
      `builder_config.${key} is None: the default image ${fallback} is used (flytekit would write "FROM None", which cannot build)`,
    )
    return fallback
  }
  if (typeof v !== 'string' || v === '')
    throw new ImagespecError(
      'E_SPEC_INVALID',
      `builder_config.${key}: must be an image name such as ${fallback}`,
      {
        field: `builder_config.${key}`,
      },
    )
  return v
}

export const uvStage = (spec: ImageSpec, ctx: InstallerContext): HelperStage => ({
  image: configuredImage(spec, 'uv_image', DEFAULT_UV_IMAGE, ctx),
  alias: 'uv',
})
export const micromambaStage = (spec: ImageSpec, ctx: InstallerContext): HelperStage => ({
  image: configuredImage(spec, 'micromamba_image', DEFAULT_MICROMAMBA_IMAGE, ctx),
  alias: 'micromamba',
})

export const UV_CACHE: RunMount = { type: 'cache', target: '/root/.cache/uv', id: 'uv' }
export const UV_BINARY: RunMount = {
  type: 'from',
  from: 'uv',
  source: '/uv',
  target: '/usr/bin/uv',
}
export const bind = (file: string): RunMount => ({ type: 'bind', target: file, src: file })

/** The basename of `requirements` (flytekit branches on it: `uv.lock`, `poetry.lock`, anything else). */
export const requirementsName = (spec: ImageSpec): string | undefined =>
  spec.requirements ? basename(spec.requirements) : undefined

/** flytekit's install args: `--index-url`, each `--extra-index-url`, then `pip_extra_args` as one raw string. */
export function indexArgs(spec: ImageSpec): string[] {
  const args: string[] = []
  if (spec.pip_index) args.push('--index-url', shellQuote(spec.pip_index))
  for (const url of spec.pip_extra_index_url ?? []) args.push('--extra-index-url', shellQuote(url))
  if (spec.pip_extra_args) args.push(spec.pip_extra_args)
  return args
}

/** `pip_secret_mounts` with flytekit's positional ids `secret_0`, `secret_1`, ... */
export const secretMounts = (spec: ImageSpec): SecretMount[] =>
  (spec.pip_secret_mounts ?? []).map(([src, target], i) => ({ id: `secret_${i}`, src, target }))

/**
 * The requirement lines of a non-lock install: the requirements file's lines (stripped, blank and comment lines kept),
 * then `packages`, then flytekit's pin unless an entry already names flytekit. Joined without a trailing newline.
 */
export function requirementLines(spec: ImageSpec, ctx: InstallerContext): string {
  const reqs: string[] = []
  if (spec.requirements) {
    const file = resolve(ctx.cwd, spec.requirements)
    let text: string
    checkRequirementsFile(file) // a FIFO or a device is refused before it is opened
    try {
      text = readFileSync(file, 'utf8')
    } catch (cause) {
      throw new ImagespecError(
        'E_CONTEXT',
        `Requirements file "${spec.requirements}" cannot be read`,
        {
          cause,
          field: 'requirements',
        },
      )
    }
    const lines = text.split(/\r\n|\r|\n/)
    if (lines.at(-1) === '') lines.pop()
    reqs.push(...lines.map((l) => l.trim()))
  }
  reqs.push(...(spec.packages ?? []))
  if (!reqs.some(isFlytekit)) reqs.push(flytekitRequirement(ctx.flytekitVersion))
  return reqs.join('\n')
}
