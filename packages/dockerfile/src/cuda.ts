import { ImagespecError, type ImageSpec } from '@imagespec/spec'
import type { RenderSettings } from './settings.js'

/** flytekit's base image when `base_image` is unset. */
export const DEFAULT_BASE_IMAGE = 'debian:bookworm-slim'

/** flytekit's exact ValueError text for `cuda`/`cudnn` (vector 11). */
export const FLYTEKIT_CUDA_ERROR =
  'cuda and cudnn do not need to be specified. If you are installed a GPU accelerated library on PyPI, then it likely will install cuda from PyPI.With conda you can installed cuda from the `nvidia` channel by adding `nvidia` to ImageSpec.conda_channels and adding packages from https://anaconda.org/nvidia into ImageSpec.conda_packages. If you require cuda for non-python dependencies, you can set a `base_image` with cuda preinstalled.'

/**
 * The CUDA base image for `cuda` (and optional `cudnn`) through a template (default
 * `nvidia/cuda:{cuda}-{cudnn}runtime-ubuntu22.04`). `{cudnn}` becomes `cudnn<major>-` for cuDNN up to 8,
 * `cudnn-` for cuDNN 9 and later (NVIDIA's tags no longer carry the number), and nothing without cudnn.
 * Example: cuda `11.8.0` + cudnn `8` -> `nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04`.
 */
export function cudaBaseImage(cuda: string, cudnn: string | null, template: string): string {
  if (!/^\d+\.\d+(\.\d+)?$/.test(cuda))
    throw new ImagespecError('E_SPEC_INVALID', `cuda: "${cuda}" is not a CUDA version such as 12.4.1`, { field: 'cuda' })
  let part = ''
  if (cudnn !== null) {
    if (!/^\d+(\.\d+)*$/.test(cudnn))
      throw new ImagespecError('E_SPEC_INVALID', `cudnn: "${cudnn}" is not a cuDNN version such as 8`, { field: 'cudnn' })
    const major = Number(cudnn.split('.')[0])
    part = major >= 9 ? 'cudnn-' : `cudnn${major}-`
  }
  return template.replaceAll('{cuda}', cuda).replaceAll('{cudnn}', part)
}

/**
 * flytekit's `base_image or "debian:bookworm-slim"`, plus CUDA: with `cuda`/`cudnn` and no `base_image`, a CUDA
 * image is selected (an explicit `base_image` is kept, with a warning). In `compat: 'flytekit'` cuda/cudnn raise
 * flytekit's error instead. A nested base spec must have been built and replaced by its image name first.
 */
export function resolveBaseImage(spec: ImageSpec, settings: RenderSettings): { image: string; warnings: string[] } {
  if (spec.base_image !== null && typeof spec.base_image !== 'string')
    throw new ImagespecError('E_SPEC_INVALID', 'base_image: a nested spec must be resolved to its image name first', {
      field: 'base_image',
    })
  const gpu = spec.cuda !== null || spec.cudnn !== null
  if (!gpu) return { image: spec.base_image || DEFAULT_BASE_IMAGE, warnings: [] }
  if (settings.compat === 'flytekit') throw new ImagespecError('E_SPEC_INVALID', FLYTEKIT_CUDA_ERROR, { field: 'cuda' })
  if (spec.base_image)
    return { image: spec.base_image, warnings: [`cuda and cudnn select no image: base_image "${spec.base_image}" is used as given`] }
  if (spec.cuda === null)
    throw new ImagespecError('E_SPEC_INVALID', 'cudnn: requires cuda (the CUDA version selects the base image)', { field: 'cudnn' })
  return { image: cudaBaseImage(spec.cuda, spec.cudnn, settings.cudaImage), warnings: [] }
}
