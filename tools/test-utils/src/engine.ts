import { request } from 'node:http'

export const DOCKER_SOCKET = process.env.DOCKER_HOST?.startsWith('unix://')
  ? process.env.DOCKER_HOST.slice('unix://'.length)
  : '/var/run/docker.sock'

/** True when a Docker engine answers `/_ping` on the local socket within `timeoutMs`. */
export function engineAvailable(timeoutMs = 2000): Promise<boolean> {
  return new Promise((done) => {
    const req = request(
      { socketPath: DOCKER_SOCKET, path: '/_ping', timeout: timeoutMs },
      (res) => {
        res.resume()
        done(res.statusCode === 200)
      },
    )
    req.on('error', () => done(false))
    req.on('timeout', () => {
      req.destroy()
      done(false)
    })
    req.end()
  })
}

/** Whether CI demands a real engine (then a missing engine fails instead of skipping). */
export const engineRequired = (): boolean => process.env.IMAGESPEC_REQUIRE_ENGINE === '1'

/**
 * For `describe.skipIf(await skipWithoutEngine())`: false when the engine is there; true (skip) when it is not and
 * none is required; throws when IMAGESPEC_REQUIRE_ENGINE=1 and the engine is missing.
 */
export async function skipWithoutEngine(): Promise<boolean> {
  if (await engineAvailable()) return false
  if (engineRequired())
    throw new Error(`IMAGESPEC_REQUIRE_ENGINE=1 but no Docker engine answers on ${DOCKER_SOCKET}`)
  return true
}

/** Throws unless an engine answers. */
export async function requireEngine(): Promise<void> {
  if (!(await engineAvailable())) throw new Error(`No Docker engine answers on ${DOCKER_SOCKET}`)
}

/** Label put on everything an integration test creates, so teardown can remove it. */
export const TEST_LABEL = 'org.imagespec.test-run'
