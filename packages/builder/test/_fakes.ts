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
      if (opts.pushesInBuild && call.push) return { pushed: call.tags.map((ref) => ({ ref, digest: 'sha256:pushed' })) }
      return {}
    },
    async push(ref) {
      pushes.push(ref)
      return {}
    },
  }
  return driver
}
