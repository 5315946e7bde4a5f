import { ImagespecError } from '@imagespec/spec'
import type { CacheExport } from './types.js'

/** A Docker engine's embedded BuildKit (Engine API or `/grpc`) exports inline caches only. */
export function refuseRegistryCacheExport(cacheTo: readonly CacheExport[] | undefined): void {
  const registry = cacheTo?.find((c) => c.type === 'registry')
  if (registry?.type !== 'registry') return
  throw new ImagespecError(
    'E_CONFIG_INVALID',
    `A Docker engine's embedded BuildKit cannot export a registry cache ("type=registry,ref=${registry.ref}")`,
    {
      hint: 'Use --cache-to type=inline (the cache travels in the pushed image), or a standalone buildkitd (BUILDKIT_HOST)',
      field: 'cache-to',
    },
  )
}
