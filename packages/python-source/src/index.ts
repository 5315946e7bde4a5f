// Public API of @imagespec/python-source.
export { scanSource, scanPaths, scanResultJson, loadScannedSpec, MAX_SOURCE_BYTES } from './scan.js'
export type {
  ScannedSpec,
  SkippedSpec,
  ScanResult,
  ScanOptions,
  LoadScannedOptions,
} from './scan.js'
export type { SpecData } from './_spec-object.js'
export { MAX_FILES } from './_files.js'
