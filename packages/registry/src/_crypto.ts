type Crypto = typeof import('node:crypto')
let crypto: Crypto | undefined

/**
 * node:crypto, loaded on first use rather than at import: a quick command (`exists`, a build that finds its image)
 * never hashes a manifest or names a relay tag, and loading node:crypto costs it about 5 ms.
 */
function nodeCrypto(): Crypto {
  crypto ??= process.getBuiltinModule('node:crypto') as Crypto
  return crypto
}

/** A body's digest as the registry API writes it: `sha256:<hex>`. */
export function sha256(body: Uint8Array): string {
  return `sha256:${nodeCrypto().createHash('sha256').update(body).digest('hex')}`
}

/** `bytes` random bytes as hex. */
export function randomHex(bytes: number): string {
  return nodeCrypto().randomBytes(bytes).toString('hex')
}
