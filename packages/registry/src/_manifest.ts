// The existence probe of one reference: a HEAD on its manifest (GET where HEAD is refused or says too little), and,
// when platforms are asked or the manifest is an index, the platforms it holds.
import type { ImageReference } from '@imagespec/spec'
import { sha256 } from './_crypto.js'
import { ProbeFailure } from './_failure.js'
import { formatPlatform, platformMatches, type Platform } from './_platform.js'
import { readJson, RegistrySession } from './_session.js'
import { header } from './_transport.js'
import { MEDIA_TYPES, type ProbeResult } from './types.js'

const ACCEPT = Object.values(MEDIA_TYPES).join(', ')
const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList])
const MANIFEST_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest])
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/
const MAX_MANIFEST = 4 << 20

interface Manifest {
  status: number
  digest?: string
  mediaType?: string
  body?: Buffer
}

/** The requests of one probe, under one deadline. */
export class ProbeSession extends RegistrySession {
  /** Asks whether the reference exists; `reference` is its formatted name, used in the answer. */
  async probe(reference: string, wanted: Platform[] | undefined): Promise<ProbeResult> {
    const { ref } = this
    await this.authenticateUpfront()
    const tagOrDigest = ref.digest ?? ref.tag!
    // HEAD, which registries do not count as a pull, unless platforms are asked: those need the body of an index (or
    // of a manifest, for its config) anyway, and one GET is one round trip instead of two. GET also where HEAD is
    // refused or answers without a digest or type.
    let m = await this.manifest(wanted ? 'GET' : 'HEAD', tagOrDigest)
    if (m.status === 405 || m.status === 501 || (m.status === 200 && (!m.digest || !m.mediaType)))
      if (!m.body) m = await this.manifest('GET', tagOrDigest)
    if (m.status === 404) return { status: 'missing', reference }
    if (m.status !== 200)
      throw new ProbeFailure(
        m.status >= 500 ? 'server' : 'protocol',
        `Registry "${ref.registry}" answered HTTP ${m.status} for "${ref.repository}"`,
      )
    const digest = m.digest ?? sha256(m.body!)
    if (!DIGEST_RE.test(digest))
      throw new ProbeFailure('protocol', `Registry "${ref.registry}" sent an invalid digest`)
    // Any GET answer must be a JSON manifest; its type comes from Content-Type, else the body.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed manifest, checked field by field
    let doc: any = m.body && readJson(m.body, ref)
    const mediaType: string =
      !doc || INDEX_TYPES.has(m.mediaType!) || MANIFEST_TYPES.has(m.mediaType!)
        ? m.mediaType!
        : (doc.mediaType ?? inferMediaType(doc, ref))
    const isIndex = INDEX_TYPES.has(mediaType)
    if (!isIndex && !wanted) return { status: 'exists', reference, digest, mediaType }

    // The index's platforms, or (when platforms were asked) the single manifest's platform from its config.
    doc ??= readJson(await this.manifestBody(digest), ref)
    let platforms: Platform[]
    if (isIndex) {
      if (!Array.isArray(doc.manifests))
        throw new ProbeFailure(
          'protocol',
          `The index of "${ref.repository}" has no "manifests" list`,
        )
      platforms = doc.manifests.flatMap((d: { platform?: Partial<Platform> }) =>
        typeof d?.platform?.os === 'string' &&
        typeof d.platform.architecture === 'string' &&
        d.platform.os !== 'unknown'
          ? [
              {
                os: d.platform.os,
                architecture: d.platform.architecture,
                ...(d.platform.variant && { variant: d.platform.variant }),
              },
            ]
          : [],
      )
    } else if (MANIFEST_TYPES.has(mediaType) && typeof doc.config?.digest === 'string') {
      platforms = [await this.configPlatform(doc.config.digest)]
    } else {
      throw new ProbeFailure(
        'protocol',
        `Cannot read the platforms of "${ref.repository}" (media type "${mediaType}")`,
      )
    }
    const names = [...new Set(platforms.map(formatPlatform))]
    const answer: ProbeResult = { status: 'exists', reference, digest, mediaType, platforms: names }
    if (wanted)
      answer.missingPlatforms = wanted
        .filter((w) => !platforms.some((p) => platformMatches(w, p)))
        .map(formatPlatform)
    return answer
  }

  private async manifest(method: 'HEAD' | 'GET', tagOrDigest: string): Promise<Manifest> {
    const res = await this.registryRequest(
      method,
      `/v2/${this.ref.repository}/manifests/${tagOrDigest}`,
      MAX_MANIFEST,
      ACCEPT,
    )
    const type = header(res, 'content-type')
    const semi = type?.indexOf(';') ?? -1
    return {
      status: res.status,
      digest: header(res, 'docker-content-digest'),
      mediaType: semi === -1 ? type?.trim() : type!.slice(0, semi).trim(),
      body: method === 'GET' ? res.body : undefined,
    }
  }

  private async manifestBody(digest: string): Promise<Buffer> {
    const m = await this.manifest('GET', digest)
    if (m.status !== 200)
      throw new ProbeFailure(
        'server',
        `Registry "${this.ref.registry}" answered HTTP ${m.status} for manifest ${digest}`,
      )
    return m.body!
  }
}

/** An OCI manifest's `mediaType` is optional: tell an index from an image manifest by its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed manifest, checked field by field
function inferMediaType(doc: any, ref: ImageReference): string {
  if (Array.isArray(doc.manifests)) return MEDIA_TYPES.ociIndex
  if (typeof doc.config === 'object' && Array.isArray(doc.layers)) return MEDIA_TYPES.ociManifest
  throw new ProbeFailure(
    'protocol',
    `Registry "${ref.registry}" sent something that is not a manifest for "${ref.repository}"`,
  )
}
