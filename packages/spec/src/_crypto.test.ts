import { createHash as nodeHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createHash } from './_crypto.js'

describe('createHash (JavaScript for small inputs, node:crypto past 64 KiB)', () => {
  it.each(['md5', 'sha1'] as const)(
    '%s equals node:crypto for every size around the switch, in pieces',
    (algo) => {
      for (const size of [0, 1, 55, 56, 64, 1000, 65_535, 65_536, 65_537, 200_000]) {
        const data = randomBytes(size)
        const ours = createHash(algo)
        // Pieces through one reused buffer, as the file digests feed it.
        const buf = Buffer.alloc(7919)
        for (let at = 0; at < size; at += buf.length) {
          const n = data.copy(buf, 0, at, Math.min(size, at + buf.length))
          ours.update(buf.subarray(0, n))
        }
        expect(ours.digest('hex'), `${algo} of ${size} bytes`).toBe(
          nodeHash(algo).update(data).digest('hex'),
        )
      }
    },
  )
  it('takes strings as UTF-8 and gives a Buffer or an encoding', () => {
    const s = "{'name': 'flytekit', 'python_version': 'ü'}"
    expect(createHash('md5').update(s).digest()).toEqual(nodeHash('md5').update(s, 'utf8').digest())
    expect(createHash('md5').update(s).digest('base64url')).toBe(
      nodeHash('md5').update(s, 'utf8').digest('base64url'),
    )
  })
})
