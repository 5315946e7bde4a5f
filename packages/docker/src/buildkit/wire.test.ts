import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { decodeWorkerPlatforms } from './_wire.js'

describe('ListWorkersResponse', () => {
  it("decodes each worker's platforms, with BuildKit's field numbers (record 1, platforms 3; arch 1, os 2, variant 3)", () => {
    // Encoded field by field, independently of _wire.ts's schema, with the ID (1) and labels (2) it does not read.
    const w = protobuf.Writer.create()
    const platform = (arch: string, os: string, variant?: string) => {
      const p = protobuf.Writer.create().uint32(10).string(arch).uint32(18).string(os)
      if (variant) p.uint32(26).string(variant)
      return p.finish()
    }
    const record = protobuf.Writer.create()
      .uint32(10)
      .string('worker-1')
      .uint32(18)
      .bytes(protobuf.Writer.create().uint32(10).string('k').uint32(18).string('v').finish())
      .uint32(26)
      .bytes(platform('amd64', 'linux'))
      .uint32(26)
      .bytes(platform('arm64', 'linux', 'v8'))
      .finish()
    w.uint32(10).bytes(record)
    expect(decodeWorkerPlatforms(w.finish())).toEqual([
      [
        { os: 'linux', arch: 'amd64', variant: '' },
        { os: 'linux', arch: 'arm64', variant: 'v8' },
      ],
    ])
    expect(decodeWorkerPlatforms(new Uint8Array())).toEqual([])
  })
})
