import type { ImageReference, Logger } from '@imagespec/spec'
import type { UnknownReason } from './_failure.js'
import type { CredentialOptions } from './credentials.js'

export type { UnknownReason }

/** Options of `createProbe()`; they hold for every probe of that prober. */
export interface ProbeOptions extends Omit<CredentialOptions, 'signal'> {
  /**
   * Registries (`host` or `host:port`) to reach over plain HTTP or unverified HTTPS, as Docker's `insecure-registries`.
   * Added to the comma list in `IMAGESPEC_INSECURE_REGISTRIES`.
   */
  insecureRegistries?: readonly string[]
  /** Treat 127.0.0.0/8, ::1 and localhost as insecure registries, as Docker does (default true). */
  insecureLoopback?: boolean
  /** Extra CA certificates (PEM text) trusted for HTTPS, on top of Node's roots and `NODE_EXTRA_CA_CERTS`. */
  ca?: string | readonly string[]
  /** Files of extra CA certificates (PEM). */
  caFile?: string | readonly string[]
  /** The most one probe may take, everything included (auth, retries, bodies); default 10 000 ms. */
  timeoutMs?: number
  /** Retries on connection errors and 429/500/502/503/504 answers, within the timeout; default 3. */
  retries?: number
  /** `probeMany`'s default concurrency (also the sockets kept per registry); default 32. */
  concurrency?: number
  /**
   * Page size asked of a tag list (`probeMany`), sent as `?n=`; default: none (the registry's own page size).
   * Pages are followed through their `Link: <…>; rel="next"` headers either way.
   */
  tagListPageSize?: number
  /** Receives debug lines (never secrets). */
  logger?: Logger
}

/** Per-call options. */
export interface ProbeRequestOptions {
  /** Wanted platforms, `os/arch[/variant]`; the answer lists the ones the image lacks in `missingPlatforms`. */
  platforms?: readonly string[]
  /** Overrides the prober's `timeoutMs` for this call. */
  timeoutMs?: number
  /** Aborting answers `unknown` (reason `timeout`) at once. */
  signal?: AbortSignal
}

/** Per-call options of `probeMany`. */
export interface ProbeManyOptions extends ProbeRequestOptions {
  /** References probed at once (default: the prober's `concurrency`). */
  concurrency?: number
  /**
   * Whether every `exists` answer carries its manifest digest (default `true`). With `false`, when the call holds at
   * least 4 different tags of one repository, one tag list (`GET /v2/<name>/tags/list`) answers for all of them: the
   * tags it holds are `exists` without `digest` or `mediaType` (`ExistenceResult`), the others `missing`, so a
   * repository costs one request however many tags are asked. Digest references, wanted `platforms`, smaller groups
   * and any fallback keep the manifest request, and their `exists` answers keep their digest.
   */
  digests?: boolean
  /**
   * Whether tag lists are used (default: when `digests` is `false`). With `true` and digests, the list answers
   * `missing` for the tags it lacks and each tag it holds still gets its `HEAD`: fewer requests when many tags are
   * absent, one more round trip when all exist. Set `false` for registries whose tag list can lag behind their
   * manifests (a pull-through cache that lists only what it has cached, an eventually consistent mirror): every
   * reference then gets its own manifest request, as `probe` does.
   */
  tagList?: boolean
}

export type ProbeResult =
  | {
      status: 'exists'
      /** The fully qualified reference probed, e.g. `docker.io/library/python:3.11`. */
      reference: string
      /** The manifest (or index) digest, `sha256:…`. */
      digest: string
      mediaType: string
      /** Platforms the image holds (`os/arch[/variant]`): from the index, or the config when platforms were asked. */
      platforms?: string[]
      /** Wanted platforms that the image lacks (present only when platforms were asked). */
      missingPlatforms?: string[]
    }
  | { status: 'missing'; reference: string }
  | { status: 'unknown'; reference: string; reason: UnknownReason; message: string }

/**
 * An answer of `probeMany(refs, { digests: false })`: a `ProbeResult`, except that an `exists` answer taken from a
 * repository's tag list has no `digest` and `mediaType` (the ones answered by a manifest request keep theirs).
 */
export type ExistenceResult =
  | Exclude<ProbeResult, { status: 'exists' }>
  | (Omit<Extract<ProbeResult, { status: 'exists' }>, 'digest' | 'mediaType'> & {
      digest?: string
      mediaType?: string
    })

export interface Prober {
  /** Asks the registry whether `ref` exists. Rejects only for a bad reference, option or docker config. */
  probe(ref: string | ImageReference, options?: ProbeRequestOptions): Promise<ProbeResult>
  /**
   * Probes all `refs` concurrently (at most `concurrency` probes or tag lists at a time); answers are in the order of
   * `refs`. Tags of one repository may share one tag list (see `ProbeManyOptions.digests`).
   */
  probeMany(
    refs: readonly (string | ImageReference)[],
    options?: ProbeManyOptions & { digests?: true },
  ): Promise<ProbeResult[]>
  probeMany(
    refs: readonly (string | ImageReference)[],
    options?: ProbeManyOptions,
  ): Promise<ExistenceResult[]>
  /** Closes the kept-alive connections. */
  close(): void
}

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
} as const
