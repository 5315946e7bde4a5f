import type { BuildDriver } from '../src/index.js'

type BuildCall = Parameters<BuildDriver['build']>[0]

/** A Docker driver that records calls instead of building (unit tests only; integration tests use the engine). */
export function recordingDriver(opts: { fail?: Error } = {}) {
  const builds: BuildCall[] = []
  const pushes: string[] = []
  const driver: BuildDriver & { builds: BuildCall[]; pushes: string[] } = {
    builds,
    pushes,
    async build(call) {
      call.context.resume()
      builds.push(call)
      if (opts.fail) throw opts.fail
      return {}
    },
    async push(ref) {
      pushes.push(ref)
      return {}
    },
  }
  return driver
}
