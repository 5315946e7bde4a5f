import { ImagespecError, type ImageSpec } from '@imagespec/spec'
import type { RenderSettings } from './settings.js'

/** flytekit's base image when `base_image` is unset. */
export const DEFAULT_BASE_IMAGE = 'debian:bookworm-slim'

/** flytekit's exact ValueError text for `cuda`/`cudnn` (vector 11). */
export const FLYTEKIT_CUDA_ERROR =
  'cuda and cudnn do not need to be specified. If you are installed a GPU accelerated library on PyPI, then it likely will install cuda from PyPI.With conda you can installed cuda from the `nvidia` channel by adding `nvidia` to ImageSpec.conda_channels and adding packages from https://anaconda.org/nvidia into ImageSpec.conda_packages. If you require cuda for non-python dependencies, you can set a `base_image` with cuda preinstalled.'

/**
 * CUDA releases NVIDIA publishes `nvidia/cuda:<X.Y.Z>-…-ubuntu22.04` image tags for, by `X.Y`, oldest patch first
 * (Docker Hub, checked 2026-12). `X.Y` maps to the newest patch; an `X.Y.Z` must be one of these.
 */
export const CUDA_RELEASES: Readonly<Record<string, readonly string[]>> = {
  '11.7': ['11.7.1'],
  '11.8': ['11.8.0'],
  '12.0': ['12.0.0', '12.0.1'],
  '12.1': ['12.1.0', '12.1.1'],
  '12.2': ['12.2.0', '12.2.2'],
  '12.3': ['12.3.1', '12.3.2'],
  '12.4': ['12.4.0', '12.4.1'],
  '12.5': ['12.5.0', '12.5.1'],
  '12.6': ['12.6.0', '12.6.1', '12.6.2', '12.6.3'],
  '12.8': ['12.8.0', '12.8.1'],
  '12.9': ['12.9.0', '12.9.1'],
  '13.0': ['13.0.0', '13.0.1'],
}

/** The full `X.Y.Z` NVIDIA tags for `cuda` (`12.4` -> `12.4.1`); refuses versions without published images. */
export function cudaRelease(cuda: string): string {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(cuda)
  const known = m ? CUDA_RELEASES[`${Number(m[1])}.${Number(m[2])}`] : undefined
  const full = m && known ? (m[3] === undefined ? known.at(-1) : known.find((v) => v === `${Number(m[1])}.${Number(m[2])}.${Number(m[3])}`)) : undefined
  if (full) return full
  const latest = Object.values(CUDA_RELEASES).map((v) => v.at(-1)!)
  throw new ImagespecError('E_SPEC_INVALID', `cuda: "${cuda}" is not a CUDA version NVIDIA publishes images for`, {
    field: 'cuda',
    hint: `Use X.Y or X.Y.Z from ${Object.keys(CUDA_RELEASES).join(', ')} (e.g. ${latest.slice(-3).join(', ')}), or set base_image to a CUDA image`,
  })
}

/**
 * The CUDA base image for `cuda` (and optional `cudnn`) through a template (default
 * `nvidia/cuda:{cuda}-{cudnn}runtime-ubuntu22.04`). `{cuda}` is the full release (`12.4` becomes `12.4.1`, see
 * `CUDA_RELEASES`); `{cudnn}` becomes `cudnn<major>-` for cuDNN up to 8, `cudnn-` for cuDNN 9 and later (NVIDIA's
 * tags no longer carry the number), and nothing without cudnn.
 * Example: cuda `11.8` + cudnn `8` -> `nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04`.
 */
export function cudaBaseImage(cuda: string, cudnn: string | null, template: string): string {
  const release = cudaRelease(cuda)
  let part = ''
  if (cudnn !== null) {
    if (!/^\d+(\.\d+)*$/.test(cudnn))
      throw new ImagespecError('E_SPEC_INVALID', `cudnn: "${cudnn}" is not a cuDNN version such as 8`, { field: 'cudnn' })
    const major = Number(cudnn.split('.')[0])
    part = major >= 9 ? 'cudnn-' : `cudnn${major}-`
  }
  return template.replaceAll('{cuda}', release).replaceAll('{cudnn}', part)
}

/**
 * flytekit's `base_image or "debian:bookworm-slim"`, plus CUDA: with `cuda`/`cudnn` and no `base_image`, a CUDA
 * image is selected (an explicit `base_image` is kept, with a warning). In `compat: 'flytekit'` cuda/cudnn raise
 * flytekit's error instead. A nested base spec must have been built and replaced by its image name first.
 */
export function resolveBaseImage(
  spec: ImageSpec,
  settings: RenderSettings,
): { image: string; warnings: string[]; isDefault?: true } {
  if (spec.base_image !== null && typeof spec.base_image !== 'string')
    throw new ImagespecError('E_SPEC_INVALID', 'base_image: a nested spec must be resolved to its image name first', {
      field: 'base_image',
    })
  const gpu = spec.cuda !== null || spec.cudnn !== null
  if (!gpu) return spec.base_image ? { image: spec.base_image, warnings: [] } : { image: DEFAULT_BASE_IMAGE, warnings: [], isDefault: true }
  if (settings.compat === 'flytekit') throw new ImagespecError('E_SPEC_INVALID', FLYTEKIT_CUDA_ERROR, { field: 'cuda' })
  if (spec.base_image)
    return { image: spec.base_image, warnings: [`cuda and cudnn select no image: base_image "${spec.base_image}" is used as given`] }
  if (spec.cuda === null)
    throw new ImagespecError('E_SPEC_INVALID', 'cudnn: requires cuda (the CUDA version selects the base image)', { field: 'cudnn' })
  return { image: cudaBaseImage(spec.cuda, spec.cudnn, settings.cudaImage), warnings: [] }
}
