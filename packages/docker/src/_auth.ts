import { normalizeRegistry, type RegistryCredentials } from '@imagespec/spec'
import type { SessionCredentials } from './_session.js'
import type { RegistryAuth } from './types.js'

/** Credentials for a registry; a resolver gets the registry normalized as the docker CLI does (`docker.io` for Hub). */
export async function findCredentials(
  auth: RegistryAuth | undefined,
  registry: string,
): Promise<RegistryCredentials | undefined> {
  const wanted = normalizeRegistry(registry)
  if (typeof auth === 'function') return auth(wanted)
  return Object.entries(auth ?? {}).find(([host]) => normalizeRegistry(host) === wanted)?.[1]
}

/** BuildKit's Auth service answers with a username and a secret (a password or an identity token). */
export function toSessionCredentials(
  c: RegistryCredentials | undefined,
): SessionCredentials | undefined {
  if (c?.identityToken) return { username: '', secret: c.identityToken }
  if (c?.username !== undefined && c.password !== undefined)
    return { username: c.username, secret: c.password }
  return undefined
}

/** The Engine API's `X-Registry-Auth` (Docker's `AuthConfig`) for a push to `registry`. */
export function toAuthConfig(
  c: RegistryCredentials | undefined,
  registry: string,
): Record<string, string> {
  return {
    ...(c?.username !== undefined && { username: c.username }),
    ...(c?.password !== undefined && { password: c.password }),
    ...(c?.identityToken !== undefined && { identitytoken: c.identityToken }),
    ...(c?.registryToken !== undefined && { registrytoken: c.registryToken }),
    serveraddress: registry,
  }
}
