// The real services behind the default builder and the existence check, loaded on first use so that commands
// which never build (or find the image already built) do not load the Docker driver.
import type { DockerDriver } from '@imagespec/docker'
import type { LoadedSpec } from '@imagespec/spec'
import type { ExistsAnswer } from './_policy.js'
import type { DefaultBuilderDeps, RegistryCredentials } from './default-builder.js'

type Env = Readonly<Record<string, string | undefined>>

let driverPromise: Promise<DockerDriver> | undefined
const driver = (): Promise<DockerDriver> =>
  (driverPromise ??= import('@imagespec/docker').then(({ createDockerClient }) => createDockerClient()))

/** Asks the registry whether `ref` exists (a HEAD on the manifest; no Docker engine involved). */
export async function probeReference(
  ref: string,
  opts: { signal?: AbortSignal; platforms?: readonly string[]; env?: Env } = {},
): Promise<ExistsAnswer> {
  const { probeImage } = await import('@imagespec/registry')
  const r = await probeImage(ref, { signal: opts.signal, platforms: opts.platforms, env: opts.env })
  if (r.status === 'unknown') return { status: 'unknown', reason: `${r.reason}: ${r.message}` }
  if (r.status === 'missing') return { status: 'missing' }
  return { status: 'exists', digest: r.digest, platforms: r.platforms, missingPlatforms: r.missingPlatforms }
}

/**
 * flytekit's `ImageSpec.exist()` without a daemon where possible: the registry probe when the spec has a registry
 * (an image lacking a wanted platform counts as missing), else the local engine's image store.
 */
export async function probeSpec(imageName: string, loaded: LoadedSpec, signal?: AbortSignal): Promise<ExistsAnswer> {
  if (loaded.spec.registry) {
    const platforms = loaded.spec.platform.split(',').map((p) => p.trim())
    const answer = await probeReference(imageName, { signal, platforms: platforms.length > 1 ? platforms : undefined })
    return answer.missingPlatforms?.length ? { ...answer, status: 'missing' } : answer
  }
  try {
    return (await (await driver()).imageExists(imageName)) ? { status: 'exists' } : { status: 'missing' }
  } catch (err) {
    return { status: 'unknown', reason: err instanceof Error ? err.message : String(err) }
  }
}

async function auth(registry: string): Promise<RegistryCredentials | undefined> {
  const { resolveCredentials } = await import('@imagespec/registry')
  const c = await resolveCredentials(registry)
  if (c?.identityToken) return { identitytoken: c.identityToken }
  if (c?.username !== undefined && c.password !== undefined) return { username: c.username, password: c.password }
  return undefined
}

export const defaultDeps: DefaultBuilderDeps = {
  contextPlan: async (loaded, settings) => (await import('./context.js')).createContextPlan(loaded, settings),
  packContext: async (plan) => (await import('@imagespec/dockerfile')).packContext(plan),
  driver,
  auth,
}
