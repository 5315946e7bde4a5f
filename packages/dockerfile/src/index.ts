// Public API of @imagespec/dockerfile.
export { renderDockerfile } from './render.js'
export type { CopyEntry, RenderInput } from './render.js'
export {
  DEFAULT_CUDA_IMAGE,
  DEFAULT_PYTHON_VERSION,
  DEFAULT_SYNTAX,
  defaultRenderSettings,
  resolveRenderSettings,
} from './settings.js'
export type { RenderSettings } from './settings.js'
export {
  CUDA_CUDNN,
  CUDA_RELEASES,
  DEFAULT_BASE_IMAGE,
  FLYTEKIT_CUDA_ERROR,
  cudaBaseImage,
  cudaRelease,
  resolveBaseImage,
} from './cuda.js'
export { validateSpecForDockerfile } from './safety.js'
export { packContext, writeContext } from './context-io.js'
export { openContextWriter } from './context-writer.js'
export type { ContextWriter } from './context-writer.js'
