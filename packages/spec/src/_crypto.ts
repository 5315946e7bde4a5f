import type { Hash } from 'node:crypto'

type Crypto = typeof import('node:crypto')
let crypto: Crypto | undefined

/** `createHash` from node:crypto, loaded on first use: it costs milliseconds at start-up, and not every command hashes. */
export function createHash(algorithm: string): Hash {
  crypto ??= process.getBuiltinModule('node:crypto') as Crypto
  return crypto.createHash(algorithm)
}
