import { normalizeRegistry } from './_ref.js'
import type { SessionCredentials } from './_session.js'
import type { RegistryAuth, RegistryCredentials } from './types.js'

/** Credentials for a registry host; a resolver gets the host normalized (`docker.io` for Docker Hub). */
export async function findCredentials(auth: RegistryAuth | undefined, registry: string) {
  const wanted = normalizeRegistry(registry)
  if (typeof auth === 'function') return auth(wanted)
  return Object.entries(auth ?? {}).find(([host]) => normalizeRegistry(host) === wanted)?.[1]
}

/** BuildKit's Auth service answers with a username and a secret (a password or an identity token). */
export function toSessionCredentials(c: RegistryCredentials | undefined): SessionCredentials | undefined {
  if (!c) return undefined
  return 'identitytoken' in c ? { username: '', secret: c.identitytoken } : { username: c.username, secret: c.password }
}
