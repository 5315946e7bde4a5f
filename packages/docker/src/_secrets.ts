import { readFile } from 'node:fs/promises'
import { ImagespecError } from '@imagespec/spec'
import { makeScrubber } from './scrub.js'
import type { BuildOptions, SecretSource } from './types.js'

/** Reads the secret values (files are read now, once). */
async function readSecrets(
  secrets: Readonly<Record<string, SecretSource>>,
): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const [id, source] of Object.entries(secrets)) {
    if (typeof source === 'string' || Buffer.isBuffer(source)) {
      out.set(id, Buffer.from(source))
      continue
    }
    try {
      out.set(id, await readFile(source.src))
    } catch (cause) {
      throw new ImagespecError('E_CONTEXT', `Cannot read secret "${id}" from "${source.src}"`, {
        cause,
        field: 'secrets',
      })
    }
  }
  return out
}

/** Secret values must not travel as build args or labels (they would be stored in the image). */
function refuseSecretsIn(
  maps: Record<string, Readonly<Record<string, string>> | undefined>,
  secrets: Map<string, Buffer>,
): void {
  const scrub = makeScrubber(secrets.values())
  for (const [field, map] of Object.entries(maps)) {
    for (const [key, value] of Object.entries(map ?? {})) {
      if (scrub(value) !== value) {
        throw new ImagespecError(
          'E_SPEC_INVALID',
          `The ${field} entry "${key}" contains a secret value`,
          { field },
        )
      }
    }
  }
}

/** A build's secrets read, a scrubber for everything the build emits, and build args and labels checked. */
export async function prepareSecrets(opts: Pick<BuildOptions, 'secrets' | 'buildArgs' | 'labels'>) {
  const secrets = await readSecrets(opts.secrets ?? {})
  refuseSecretsIn({ buildArgs: opts.buildArgs, labels: opts.labels }, secrets)
  return { secrets, scrub: makeScrubber(secrets.values()) }
}
