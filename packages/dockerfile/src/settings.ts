import { ImagespecError } from '@imagespec/spec'

/** Rendering options. Every field has a documented default (see `resolveRenderSettings`). */
export interface RenderSettings {
  /** The `#syntax=` directive's image; `null` drops the line (engines without Docker Hub access). */
  syntax: string | null
  /** The engine's `cacheMounts` capability: `false` drops every `--mount=type=cache`. */
  cacheMounts: boolean
  /** micromamba's `python=` when `python_version` is unset (flytekit uses the host interpreter's). */
  defaultPythonVersion: string
  /** CUDA base image template: `{cuda}` is the cuda version, `{cudnn}` the cuDNN tag part (see `cudaBaseImage`). */
  cudaImage: string
  /** `flytekit` reproduces flytekit where imagespec deliberately differs (today: cuda/cudnn raise flytekit's error). */
  compat: 'imagespec' | 'flytekit'
}

export const DEFAULT_SYNTAX = 'docker/dockerfile:1.5'
export const DEFAULT_PYTHON_VERSION = '3.11'
export const DEFAULT_CUDA_IMAGE = 'nvidia/cuda:{cuda}-{cudnn}runtime-ubuntu22.04'

export const defaultRenderSettings: RenderSettings = {
  syntax: DEFAULT_SYNTAX,
  cacheMounts: true,
  defaultPythonVersion: DEFAULT_PYTHON_VERSION,
  cudaImage: DEFAULT_CUDA_IMAGE,
  compat: 'imagespec',
}

/**
 * Settings from the environment, then `overrides` (CLI flags) on top:
 * `IMAGESPEC_DOCKERFILE_SYNTAX` (`none` drops the line, any other value replaces the image),
 * `IMAGESPEC_DEFAULT_PYTHON_VERSION`, `IMAGESPEC_CUDA_IMAGE`, `IMAGESPEC_COMPAT` (`flytekit` or `imagespec`).
 */
export function resolveRenderSettings(
  env: Record<string, string | undefined>,
  overrides: Partial<RenderSettings> = {},
): RenderSettings {
  const fromEnv: Partial<RenderSettings> = {}
  const syntax = env.IMAGESPEC_DOCKERFILE_SYNTAX
  if (syntax !== undefined && syntax !== '') fromEnv.syntax = syntax === 'none' ? null : syntax
  if (env.IMAGESPEC_DEFAULT_PYTHON_VERSION)
    fromEnv.defaultPythonVersion = env.IMAGESPEC_DEFAULT_PYTHON_VERSION
  if (env.IMAGESPEC_CUDA_IMAGE) fromEnv.cudaImage = env.IMAGESPEC_CUDA_IMAGE
  if (env.IMAGESPEC_COMPAT) fromEnv.compat = env.IMAGESPEC_COMPAT as RenderSettings['compat']
  const s = { ...defaultRenderSettings, ...fromEnv, ...overrides }
  const bad = (what: string, value: unknown) =>
    new ImagespecError('E_CONFIG_INVALID', `Invalid ${what} ${JSON.stringify(value)}`)
  if (!/^\d+(\.\d+){0,2}$/.test(s.defaultPythonVersion))
    throw bad('default python version', s.defaultPythonVersion)
  if (s.syntax !== null && !/^[^\s\\]+$/.test(s.syntax)) throw bad('Dockerfile syntax', s.syntax)
  if (!/^[^\s\\]+$/.test(s.cudaImage) || !s.cudaImage.includes('{cuda}'))
    throw bad('CUDA image template', s.cudaImage)
  if (s.compat !== 'imagespec' && s.compat !== 'flytekit') throw bad('compat mode', s.compat)
  return s
}
