// Public API of @imagespec/builder.
export { createEngine } from './engine.js'
export type { Engine, EngineOptions, BuildOptions, BuildOutcome, ExistsFn } from './engine.js'
export { resolveSettings, parseCacheFrom, parseCacheTo } from './settings.js'
export type { BuildSettings, SettingsFlags, CacheImport, CacheExport } from './settings.js'
export { defaultBuilder, unsupportedFields, engineCall } from './default-builder.js'
export type { BuildDriver, DefaultBuilderDeps } from './default-builder.js'
export { noopBuilder } from './noop-builder.js'
export { loadBuilder, resolveBuilderModule } from './load-builder.js'
export type { ModuleImporter } from './load-builder.js'
export { probeReference, probeSpec } from './exists.js'
export type { ExistsAnswer } from './exists.js'
export { imageLabels, localImageLabels } from './_services.js'
// The builder contract, re-exported for plugin authors and the CLI.
export { defineBuilder, isBuilderPlugin, BUILDER_CONTRACT_VERSION } from '@imagespec/spec'
export type {
  BuilderPlugin,
  BuilderCapabilities,
  BuilderContext,
  BuilderEvent,
  BuilderMessage,
  BuildRequest,
  BuildResult,
  BuildDescription,
} from '@imagespec/spec'
export {
  checkSpec,
  createContextPlan,
  createDockerContext,
  resolveContextSettings,
  specWarnings,
} from './build-context.js'
export type { SpecCheck } from './check.js'
export { buildAll } from './build-all.js'
export type { BuildAllOptions, BuildAllEntry } from './build-all.js'
export { scanPythonSources, pythonScanJson, loadScannedSpec } from './python-sources.js'
export type { ScannedSpec, ScanResult, SkippedSpec, LoadScannedOptions } from './python-sources.js'
export type { ContextSettings } from './context.js'
export { Fleet, loadFleetFile, parseFleet, isLocalAddress, samePlatform } from './fleet.js'
export type { FleetEntry, FleetMember, FleetEngine, Assignment } from './fleet.js'
