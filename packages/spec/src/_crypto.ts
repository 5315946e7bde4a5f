import type { Hash } from 'node:crypto'
import { md5, sha1 } from '@noble/hashes/legacy.js'

type Crypto = typeof import('node:crypto')
let crypto: Crypto | undefined
const nativeHash = (algorithm: Algorithm): Hash => {
  crypto ??= process.getBuiltinModule('node:crypto') as Crypto
  return crypto.createHash(algorithm)
}

type Algorithm = 'md5' | 'sha1'

/** The part of node:crypto's `Hash` that imagespec uses. */
export interface Digest {
  update(data: string | Uint8Array, encoding?: 'utf8'): Digest
  digest(): Buffer
  digest(encoding: 'hex' | 'base64url'): string
}

/** Up to this many bytes are hashed in JavaScript; past it, node:crypto takes over. */
const SMALL_INPUT = 64 * 1024

/**
 * md5 or sha1 that loads node:crypto only for large inputs. A quick command hashes a few hundred bytes (the spec's
 * pre-image, a small source tree), and loading node:crypto (fourteen modules) costs more than hashing them in
 * JavaScript (@noble/hashes); a large input (a big source tree) is handed to node:crypto, which is faster per byte.
 */
class SmallFirstHash implements Digest {
  private chunks: Uint8Array[] = []
  private size = 0
  private native: Hash | undefined

  constructor(private readonly algorithm: Algorithm) {}

  update(data: string | Uint8Array, _encoding?: 'utf8'): this {
    if (this.native) {
      this.native.update(data)
      return this
    }
    // Copied: callers reuse their read buffer.
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)
    this.size += bytes.length
    this.chunks.push(bytes)
    if (this.size > SMALL_INPUT) {
      this.native = nativeHash(this.algorithm)
      for (const chunk of this.chunks) this.native.update(chunk)
      this.chunks = []
    }
    return this
  }

  digest(): Buffer
  digest(encoding: 'hex' | 'base64url'): string
  digest(encoding?: 'hex' | 'base64url'): Buffer | string {
    let out: Buffer
    if (this.native) out = this.native.digest()
    else {
      const hash = (this.algorithm === 'md5' ? md5 : sha1).create()
      for (const chunk of this.chunks) hash.update(chunk)
      out = Buffer.from(hash.digest())
    }
    return encoding ? out.toString(encoding) : out
  }
}

/** A hash like node:crypto's `createHash(algorithm)`, which node:crypto computes only for large inputs. */
export function createHash(algorithm: Algorithm): Digest {
  return new SmallFirstHash(algorithm)
}
