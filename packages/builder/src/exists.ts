// flytekit's `ImageSpec.exist()`: the registry probe (daemonless) when the spec names a registry, else the local
// engine's image store. The registry and the Docker driver are loaded on first use.
import type { LoadedSpec } from '@imagespec/spec'
import { driver } from './_services.js'

type Env = Readonly<Record<string, string | undefined>>

/** The answer to flytekit's `ImageSpec.exist()`: True / False / None. */
export interface ExistsAnswer {
  status: 'exists' | 'missing' | 'unknown'
  digest?: string
  platforms?: string[]
  missingPlatforms?: string[]
  reason?: string
}

/** Asks the registry whether `ref` exists (a HEAD on the manifest; no Docker engine involved). */
export async function probeReference(
  ref: string,
  opts: { signal?: AbortSignal; platforms?: readonly string[]; env?: Env } = {},
): Promise<ExistsAnswer> {
  const { checkDockerConfig, probeImage } = await import('@imagespec/registry')
  // A broken docker config is bad input (E_CONFIG_INVALID), whether or not this registry asks for credentials: a
  // "missing" answer would let a script go on and build.
  await checkDockerConfig({ env: opts.env })
  const r = await probeImage(ref, { signal: opts.signal, platforms: opts.platforms, env: opts.env })
  if (r.status === 'unknown') return { status: 'unknown', reason: `${r.reason}: ${r.message}` }
  if (r.status === 'missing') return { status: 'missing' }
  return {
    status: 'exists',
    digest: r.digest,
    platforms: r.platforms,
    missingPlatforms: r.missingPlatforms,
  }
}

/**
 * flytekit's `ImageSpec.exist()` without a daemon where possible: the registry probe when the spec has a registry
 * (an image lacking a wanted platform counts as missing), else the local engine's image store.
 */
export async function probeSpec(
  imageName: string,
  loaded: LoadedSpec,
  signal?: AbortSignal,
): Promise<ExistsAnswer> {
  if (loaded.spec.registry) {
    const platforms = loaded.spec.platform.split(',').map((p) => p.trim())
    const answer = await probeReference(imageName, {
      signal,
      platforms: platforms.length > 1 ? platforms : undefined,
    })
    return answer.missingPlatforms?.length ? { ...answer, status: 'missing' } : answer
  }
  try {
    return (await (await driver()).imageExists(imageName))
      ? { status: 'exists' }
      : { status: 'missing' }
  } catch (err) {
    return { status: 'unknown', reason: err instanceof Error ? err.message : String(err) }
  }
}
