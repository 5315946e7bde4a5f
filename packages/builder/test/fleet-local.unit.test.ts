import { describe, expect, it } from 'vitest'
import { isLocalAddress } from '../src/fleet.js'

describe('isLocalAddress', () => {
  it('is a unix socket or tcp to a loopback address, never a DNS name that starts like one', () => {
    for (const a of [
      'unix:///var/run/docker.sock',
      'tcp://127.0.0.1:2375',
      'tcp://127.5.6.7:2376',
      'tcp://localhost:2375',
      'tcp://[::1]:2375',
      'https://127.0.0.1',
      'dockerd+unix:///var/run/docker.sock',
      'dockerd+tcp://127.0.0.1:2376',
    ])
      expect(isLocalAddress(a), a).toBe(true)
    for (const a of [
      'tcp://127.0.0.1.example.com:2375',
      'tcp://10.0.0.5:2375',
      'ssh://me@127.0.0.1',
      'tcp://docker.example:2376',
      'dockerd+tcp://buildkitd.example:1234',
      'dockerd+ssh://me@127.0.0.1',
    ])
      expect(isLocalAddress(a), a).toBe(false)
  })
})
