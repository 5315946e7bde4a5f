import { ImagespecError, type ImageSpec } from '@imagespec/spec'
import type { RenderSettings } from './settings.js'

/** flytekit's base image when `base_image` is unset. */
export const DEFAULT_BASE_IMAGE = 'debian:bookworm-slim'

/** flytekit's exact ValueError text for `cuda`/`cudnn` (vector 11). */
export const FLYTEKIT_CUDA_ERROR =
  'cuda and cudnn do not need to be specified. If you are installed a GPU accelerated library on PyPI, then it likely will install cuda from PyPI.With conda you can installed cuda from the `nvidia` channel by adding `nvidia` to ImageSpec.conda_channels and adding packages from https://anaconda.org/nvidia into ImageSpec.conda_packages. If you require cuda for non-python dependencies, you can set a `base_image` with cuda preinstalled.'

/**
 * CUDA releases NVIDIA publishes `nvidia/cuda:<X.Y.Z>-runtime-ubuntu22.04` tags for, by `X.Y`, oldest patch first;
 * `X.Y` maps to the newest patch and an `X.Y.Z` must be one of these. Checked against NVIDIA's own tag lists
 * (`doc/supported-tags.md` and `doc/unsupported-tags.md` of gitlab.com/nvidia/container-images/cuda, read from a
 * GitHub mirror whose last update was 2025-08-18), not against Docker Hub: releases after that date (13.0.1 and
 * later) are not listed. NVIDIA deletes old tags (its support policy), so a listed tag can also disappear; set
 * `base_image` or `IMAGESPEC_CUDA_IMAGE` for anything else.
 */
export const CUDA_RELEASES: Readonly<Record<string, readonly string[]>> = {
  '11.7': ['11.7.1'],
  '11.8': ['11.8.0'],
  '12.0': ['12.0.0', '12.0.1'],
  '12.1': ['12.1.0', '12.1.1'],
  '12.2': ['12.2.0', '12.2.2'],
  '12.3': ['12.3.0', '12.3.1', '12.3.2'],
  '12.4': ['12.4.0', '12.4.1'],
  '12.5': ['12.5.0', '12.5.1'],
  '12.6': ['12.6.0', '12.6.1', '12.6.2', '12.6.3'],
  '12.8': ['12.8.0', '12.8.1'],
  '12.9': ['12.9.0', '12.9.1'],
  '13.0': ['13.0.0'],
}

/**
 * The cuDNN runtime variant NVIDIA publishes for each release (same source as `CUDA_RELEASES`): the cuDNN major and
 * the tag part. Releases not listed have no cuDNN image (e.g. 12.2.0, 12.3.0, 12.3.1, 12.4.0, 12.5.0); 12.3.2's
 * cuDNN 9 tag carries the number (`cudnn9-`), the later ones do not (`cudnn-`).
 */
export const CUDA_CUDNN: Readonly<Record<string, { major: number; part: string }>> = {
  ...Object.fromEntries(
    ['11.7.1', '11.8.0', '12.0.0', '12.0.1', '12.1.0', '12.1.1', '12.2.2'].map((r) => [
      r,
      { major: 8, part: 'cudnn8-' },
    ]),
  ),
  '12.3.2': { major: 9, part: 'cudnn9-' },
  ...Object.fromEntries(
    [
      '12.4.1',
      '12.5.1',
      '12.6.0',
      '12.6.1',
      '12.6.2',
      '12.6.3',
      '12.8.0',
      '12.8.1',
      '12.9.0',
      '12.9.1',
      '13.0.0',
    ].map((r) => [r, { major: 9, part: 'cudnn-' }]),
  ),
}

const refuseCuda = (cuda: string) => {
  const latest = Object.values(CUDA_RELEASES).map((v) => v.at(-1)!)
  return new ImagespecError(
    'E_SPEC_INVALID',
    `cuda: "${cuda}" is not a CUDA version NVIDIA publishes images for`,
    {
      field: 'cuda',
      hint: `Use X.Y or X.Y.Z from ${Object.keys(CUDA_RELEASES).join(', ')} (e.g. ${latest.slice(-3).join(', ')}), or set base_image to a CUDA image`,
    },
  )
}

/**
 * The full `X.Y.Z` NVIDIA tags for `cuda` (`12.4` -> `12.4.1`); refuses versions without published images. With
 * `cudnnMajor`, only releases that have that cuDNN image count (`12.3` with cuDNN 9 -> `12.3.2`).
 */
export function cudaRelease(cuda: string, cudnnMajor?: number): string {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(cuda)
  const known = m ? CUDA_RELEASES[`${Number(m[1])}.${Number(m[2])}`] : undefined
  if (!m || !known) throw refuseCuda(cuda)
  const wanted =
    m[3] === undefined
      ? known
      : known.filter((v) => v === `${Number(m[1])}.${Number(m[2])}.${Number(m[3])}`)
  if (wanted.length === 0) throw refuseCuda(cuda)
  if (cudnnMajor === undefined) return wanted.at(-1)!
  const withCudnn = wanted.filter((v) => CUDA_CUDNN[v]?.major === cudnnMajor)
  if (withCudnn.length > 0) return withCudnn.at(-1)!
  const offered = Object.entries(CUDA_CUDNN)
    .filter(([, c]) => c.major === cudnnMajor)
    .map(([r]) => r)
  throw new ImagespecError(
    'E_SPEC_INVALID',
    `cudnn: NVIDIA publishes no cuDNN ${cudnnMajor} image for cuda "${cuda}"`,
    {
      field: 'cudnn',
      hint: offered.length
        ? `cuDNN ${cudnnMajor} images exist for cuda ${offered.join(', ')}; or set base_image to a CUDA image`
        : 'NVIDIA publishes cuDNN 8 and 9 images; or set base_image to a CUDA image',
    },
  )
}

/**
 * The CUDA base image for `cuda` (and optional `cudnn`) through a template (default
 * `nvidia/cuda:{cuda}-{cudnn}runtime-ubuntu22.04`). `{cuda}` is the full release (`12.4` becomes `12.4.1`, see
 * `CUDA_RELEASES`). With NVIDIA's template, `{cudnn}` is the tag part NVIDIA uses for that release (`CUDA_CUDNN`:
 * `cudnn8-`, `cudnn9-` for 12.3.2, `cudnn-` from 12.4.1 on) and a combination NVIDIA does not publish is refused;
 * with another template it is `cudnn<major>-` up to 8 and `cudnn-` from 9 on. Without cudnn it is empty.
 * Example: cuda `11.8` + cudnn `8` -> `nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04`.
 */
export function cudaBaseImage(cuda: string, cudnn: string | null, template: string): string {
  let major: number | undefined
  if (cudnn !== null) {
    if (!/^\d+(\.\d+)*$/.test(cudnn))
      throw new ImagespecError(
        'E_SPEC_INVALID',
        `cudnn: "${cudnn}" is not a cuDNN version such as 8`,
        { field: 'cudnn' },
      )
    major = Number(cudnn.split('.')[0])
  }
  const nvidia = template.startsWith('nvidia/cuda:')
  const release = cudaRelease(cuda, nvidia ? major : undefined)
  const part =
    major === undefined
      ? ''
      : nvidia
        ? CUDA_CUDNN[release].part
        : major >= 9
          ? 'cudnn-'
          : `cudnn${major}-`
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
    throw new ImagespecError(
      'E_SPEC_INVALID',
      'base_image: a nested spec must be resolved to its image name first',
      {
        field: 'base_image',
      },
    )
  const gpu = spec.cuda !== null || spec.cudnn !== null
  if (!gpu)
    return spec.base_image
      ? { image: spec.base_image, warnings: [] }
      : { image: DEFAULT_BASE_IMAGE, warnings: [], isDefault: true }
  if (settings.compat === 'flytekit')
    throw new ImagespecError('E_SPEC_INVALID', FLYTEKIT_CUDA_ERROR, { field: 'cuda' })
  if (spec.base_image)
    return {
      image: spec.base_image,
      warnings: [
        `cuda and cudnn select no image: base_image "${spec.base_image}" is used as given`,
      ],
    }
  if (spec.cuda === null)
    throw new ImagespecError(
      'E_SPEC_INVALID',
      'cudnn: requires cuda (the CUDA version selects the base image)',
      { field: 'cudnn' },
    )
  return { image: cudaBaseImage(spec.cuda, spec.cudnn, settings.cudaImage), warnings: [] }
}
