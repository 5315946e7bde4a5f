import { describe, expect, it } from 'vitest'
import { createFrameReader, frame } from './_grpc.js'

describe('gRPC framing', () => {
  it('splits messages across and within chunks', () => {
    const seen: string[] = []
    const read = createFrameReader((m) => seen.push(m.toString()))
    const bytes = Buffer.concat([
      frame(Buffer.from('one')),
      frame(Buffer.alloc(0)),
      frame(Buffer.from('three')),
    ])
    for (let i = 0; i < bytes.length; i += 2) read(bytes.subarray(i, i + 2))
    expect(seen).toEqual(['one', '', 'three'])
  })
})
