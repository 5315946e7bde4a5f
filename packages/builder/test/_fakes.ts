import type { BuildDriver } from '../src/index.js'

type BuildCall = Parameters<BuildDriver['build']>[0]

/** A Docker driver that records calls instead of building (unit tests only; integration tests use the engine). */
export function recordingDriver(opts: { fail?: Error; pushesInBuild?: boolean } = {}) {
  const builds: BuildCall[] = []
  const pushes: string[] = []
  const driver: BuildDriver & { builds: BuildCall[]; pushes: string[] } = {
    builds,
    pushes,
    async build(call) {
      call.context.resume()
      builds.push(call)
      if (opts.fail) throw opts.fail
      // a standalone buildkitd's image exporter pushes within the build
      if (opts.pushesInBuild && call.push)
        return { pushed: call.tags.map((ref) => ({ ref, digest: 'sha256:pushed' })) }
      return {}
    },
    async push(ref) {
      pushes.push(ref)
      return {}
    },
  }
  return driver
}

/** Warnings imagespec adds to flytekit's (docs/compat.md), by vector: removed before comparing, after checking they are there. */
const EXTRA_WARNINGS: Record<string, RegExp> = {
  // flytekit copies the loaded modules silently; from the CLI none are loaded, so imagespec says so.
  '15_source_root_default_loaded_modules_none_imported':
    /LOADED_MODULES mode .* nothing is copied\. Name them with --module/,
}

/** `warnings` less the ones imagespec adds for `caseId` (each must be there once). */
export function flytekitWarnings(caseId: string, warnings: string[]): string[] {
  const extra = EXTRA_WARNINGS[caseId]
  if (!extra) return warnings
  if (warnings.filter((w) => extra.test(w)).length !== 1)
    throw new Error(`${caseId}: expected imagespec's extra warning ${extra}`)
  return warnings.filter((w) => !extra.test(w))
}
