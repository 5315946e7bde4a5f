// ImageSpecs read from Python sources. @imagespec/python-source (and its parser) is imported on first use only, so
// that commands on spec files never load it.
import type { LoadedSpec } from '@imagespec/spec'
import type {
  LoadScannedOptions,
  ScannedSpec,
  ScanOptions,
  ScanResult,
} from '@imagespec/python-source'

export type {
  ScannedSpec,
  ScanResult,
  SkippedSpec,
  LoadScannedOptions,
} from '@imagespec/python-source'

const pythonSource = () => import('@imagespec/python-source')

/** Scans `.py` files and folders (every `.py` under a folder, honouring .gitignore) for ImageSpec constructions. */
export async function scanPythonSources(
  paths: readonly string[],
  opts: ScanOptions & { cwd?: string } = {},
): Promise<ScanResult> {
  return (await pythonSource()).scanPaths(paths, opts)
}

/** The `scan --json` text of a scan result. */
export async function pythonScanJson(result: ScanResult): Promise<string> {
  return (await pythonSource()).scanResultJson(result)
}

/** A scanned spec normalized like a spec file (relative paths against `opts.cwd`, flytekit's working directory). */
export async function loadScannedSpec(
  scanned: ScannedSpec,
  opts: LoadScannedOptions,
): Promise<LoadedSpec> {
  return (await pythonSource()).loadScannedSpec(scanned, opts)
}
