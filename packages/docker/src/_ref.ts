/** An image reference split into the parts the Engine API wants. */
export interface ImageRefParts {
  /** Registry host, `docker.io` when the reference names none. */
  registry: string
  /** Repository including the registry part as written, e.g. `localhost:5000/app`. */
  repo: string
  tag?: string
  digest?: string
}

/** Splits `[registry/]path[:tag][@digest]` (docker's rules: a first component with `.`/`:` or `localhost` is a host). */
export function splitImageRef(ref: string): ImageRefParts {
  const at = ref.indexOf('@')
  const digest = at >= 0 ? ref.slice(at + 1) : undefined
  const named = at >= 0 ? ref.slice(0, at) : ref
  const colon = named.lastIndexOf(':')
  const hasTag = colon > named.lastIndexOf('/')
  const repo = hasTag ? named.slice(0, colon) : named
  const first = repo.split('/')[0] ?? ''
  const registry =
    repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io'
  return { registry, repo, tag: hasTag ? named.slice(colon + 1) : undefined, digest }
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])

/** Normalizes a registry key (`https://index.docker.io/v1/`, `Docker.io`, `localhost:5000/`) for comparison. */
export function normalizeRegistry(host: string): string {
  const bare = host.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').split('/')[0] ?? ''
  return DOCKER_HUB.has(bare) ? 'docker.io' : bare
}
