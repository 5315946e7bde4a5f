// Build caches as buildx names them: what the CLI's --cache-from/--cache-to and IMAGESPEC_CACHE_FROM/_TO resolve to
// (in @imagespec/builder) and what the Docker and BuildKit drivers (in @imagespec/docker) pass to the engine.

/** A build cache to import (buildx's `--cache-from type=registry,ref=R`): an image pushed with an inline cache, or a registry cache. */
export interface CacheImport {
  type: 'registry'
  ref: string
}

/** A build cache to export (buildx's `--cache-to type=inline` or `type=registry,ref=R[,mode=max]`). */
export type CacheExport =
  { type: 'inline' } | { type: 'registry'; ref: string; mode?: 'min' | 'max' }
