import { ImagespecError } from './errors.js'

/** A parsed, normalised image reference (Docker's rules: `docker.io`, `library/`, default tag `latest`). */
export interface ImageReference {
  /** The registry as users write it and as credential stores key it: `docker.io`, `ghcr.io`, `127.0.0.1:5000`. */
  registry: string
  /** The host (and port) the Registry API is served from: `registry-1.docker.io` for `docker.io`, else `registry`. */
  apiHost: string
  /** The repository path, e.g. `library/python` or `acme/app`. */
  repository: string
  /** The tag; `latest` when the reference has neither a tag nor a digest. */
  tag?: string
  /** `sha256:…` when the reference pins a digest. */
  digest?: string
}

/** Docker Hub's canonical registry name, as references and credential stores name it. */
export const DOCKER_HUB = 'docker.io'
/** The host Docker Hub's Registry API is served from. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io'
/** The server address Docker stores Docker Hub credentials under (and asks credential helpers for). */
export const DOCKER_HUB_AUTH_SERVER = 'https://index.docker.io/v1/'
/** The one other name of Docker Hub that Docker accepts (distribution/reference's legacy default domain). */
const DOCKER_HUB_LEGACY = 'index.docker.io'

// distribution/reference grammar (https://github.com/distribution/reference/blob/main/regexp.go)
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`)
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`)
const TAG_RE = /^[\w][\w.-]{0,127}$/
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/
const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 }
const NAME_MAX = 255

function invalid(ref: string, why: string): ImagespecError {
  return new ImagespecError('E_REFERENCE_INVALID', `Invalid image reference "${ref}": ${why}`, {
    hint: 'Use [registry/]repository[:tag][@sha256:<digest>], e.g. "ghcr.io/acme/app:1.0"',
  })
}

/** Parses an image reference as `docker` does. Throws `E_REFERENCE_INVALID` (one line) for a bad reference. */
export function parseReference(ref: string): ImageReference {
  if (typeof ref !== 'string' || ref.trim() === '') throw invalid(String(ref), 'it is empty')
  if (ref !== ref.trim()) throw invalid(ref, 'it has leading or trailing whitespace')
  if (/^[a-f0-9]{64}$/.test(ref))
    throw invalid(ref, 'a 64-character hexadecimal string is an image id, not a name')

  let rest = ref
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at !== -1) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    checkDigest(ref, digest)
  }
  let tag: string | undefined
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG_RE.test(tag)) throw invalid(ref, `"${tag}" is not a valid tag`)
  }

  const slash = rest.indexOf('/')
  const first = slash === -1 ? '' : rest.slice(0, slash)
  const hasDomain =
    slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase())
  let registry = hasDomain ? first : DOCKER_HUB
  let repository = hasDomain ? rest.slice(slash + 1) : rest
  if (registry === DOCKER_HUB_LEGACY) registry = DOCKER_HUB
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`

  if (!DOMAIN_RE.test(registry)) throw invalid(ref, `"${registry}" is not a valid registry host`)
  const port = /:([0-9]+)$/.exec(registry)?.[1]
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535))
    throw invalid(
      ref,
      `port ${port.length > 10 ? `${port.slice(0, 10)}…` : port} is out of range (1-65535)`,
    )
  if (repository === '') throw invalid(ref, 'the repository name is empty')
  if (repository !== repository.toLowerCase())
    throw invalid(ref, 'the repository name must be lowercase')
  if (!PATH_RE.test(repository))
    throw invalid(ref, `"${repository}" is not a valid repository name`)
  if (registry.length + 1 + repository.length > NAME_MAX)
    throw invalid(ref, `the name is longer than ${NAME_MAX} characters`)

  if (tag === undefined && digest === undefined) tag = 'latest'
  const apiHost = registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry
  return {
    registry,
    apiHost,
    repository,
    ...(tag !== undefined && { tag }),
    ...(digest !== undefined && { digest }),
  }
}

function checkDigest(ref: string, digest: string): void {
  if (!DIGEST_RE.test(digest)) throw invalid(ref, `"${digest}" is not a valid digest`)
  const [algorithm, hex] = digest.split(':') as [string, string]
  const length = DIGEST_LENGTHS[algorithm]
  if (length === undefined)
    throw invalid(ref, `the digest algorithm "${algorithm}" is not supported`)
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex))
    throw invalid(ref, `a ${algorithm} digest has ${length} lowercase hexadecimal characters`)
}

/**
 * Formats a reference: fully qualified by default (`docker.io/library/python:3.11`), or as Docker shows it with
 * `familiar: true` (`python:3.11`).
 */
export function formatReference(ref: ImageReference, options: { familiar?: boolean } = {}): string {
  let name = `${ref.registry}/${ref.repository}`
  if (options.familiar && ref.registry === DOCKER_HUB)
    name =
      ref.repository.startsWith('library/') && ref.repository.split('/').length === 2
        ? ref.repository.slice(8)
        : ref.repository
  return (
    name +
    (ref.tag !== undefined ? `:${ref.tag}` : '') +
    (ref.digest !== undefined ? `@${ref.digest}` : '')
  )
}

/**
 * The registry name a credential is looked up by, as the docker CLI does: the host (and port) of a server address,
 * with any scheme and path removed (`https://index.docker.io/v1/` -> `index.docker.io`, `http://127.0.0.1:5000/v2/`
 * -> `127.0.0.1:5000`), then Docker Hub's one alias folded: `index.docker.io` is `docker.io`. Nothing else is an
 * alias (`registry-1.docker.io` is a registry name of its own for the docker CLI) and case is kept, as docker keeps
 * it.
 */
export function normalizeRegistry(address: string): string {
  const host =
    address
      .trim()
      .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
      .split('/')[0] ?? ''
  return host === DOCKER_HUB_LEGACY ? DOCKER_HUB : host
}

const LOOPBACK_HOSTNAME = /^(?:localhost|127(?:\.\d{1,3}){3}|::1)$/
const LOOPBACK_REGISTRY = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/

/** How {@link isLoopbackHost} reads its argument. */
export interface LoopbackHostOptions {
  /**
   * `host` is a registry as an image reference writes it: an optional `:port`, IPv6 in brackets (`[::1]:5000`; a
   * bare `::1` is not one). Default: a bare hostname without port (`::1`, `127.0.0.1`, `localhost`).
   */
  registry?: boolean
  /** Match `localhost` in any case (`LOCALHOST:5000`). Default: exactly `localhost`. */
  ignoreCase?: boolean
}

/**
 * Whether `host` is this machine's loopback: `localhost`, 127.0.0.0/8 or ::1 (the registries Docker treats as
 * insecure by default, plus IPv6 loopback). No name is resolved.
 */
export function isLoopbackHost(host: string, options: LoopbackHostOptions = {}): boolean {
  const name = options.ignoreCase ? host.toLowerCase() : host
  return (options.registry ? LOOPBACK_REGISTRY : LOOPBACK_HOSTNAME).test(name)
}
