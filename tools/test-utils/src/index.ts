// Test utilities for imagespec's integration tests: real engine, real registry, offline base image, local index.
export {
  engineAvailable,
  engineRequired,
  requireEngine,
  skipWithoutEngine,
  DOCKER_SOCKET,
  TEST_LABEL,
} from './engine.js'
export {
  copyImage,
  startRegistry,
  freePort,
  makeSelfSignedCert,
  REGISTRY_BIN,
  TEST_CREDENTIALS,
} from './registry.js'
export type { StartRegistryOptions, RunningRegistry } from './registry.js'
export {
  ensureBaseImage,
  ensureMultiPlatformBase,
  uniqueBaseImage,
  BASE_IMAGE,
} from './base-image.js'
export { startSecondEngine } from './second-engine.js'
export type { SecondEngine } from './second-engine.js'
export { startPackageIndex, flytekitStub } from './pyindex.js'
export type { WheelSpec, RunningIndex } from './pyindex.js'
export { materializeVector, loadVectors, vectorInput, VECTORS_BASE } from './vectors.js'
export type { VectorFixture } from './vectors.js'
export { startEngineProxy } from './engine-proxy.js'
export type {
  EngineProxy,
  TcpEngineProxy,
  TcpEngineProxyOptions,
  UnixEngineProxyOptions,
} from './engine-proxy.js'
export { useBuildEnv, docker, FLYTEKIT_VERSION } from './build-env.js'
export type { BuildEnv, BuildEnvOptions } from './build-env.js'
export { useTempDir } from './temp-dir.js'
