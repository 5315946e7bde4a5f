import { describe, expect, it } from 'vitest'
import { normalizeRegistry, splitImageRef } from './_ref.js'

describe('splitImageRef', () => {
  it.each([
    ['app', { registry: 'docker.io', repo: 'app' }],
    ['acme/app:1.0', { registry: 'docker.io', repo: 'acme/app', tag: '1.0' }],
    ['localhost:5000/app', { registry: 'localhost:5000', repo: 'localhost:5000/app' }],
    ['127.0.0.1:5001/a/b:t', { registry: '127.0.0.1:5001', repo: '127.0.0.1:5001/a/b', tag: 't' }],
    ['localhost/app:x', { registry: 'localhost', repo: 'localhost/app', tag: 'x' }],
    ['ghcr.io/o/app@sha256:ab', { registry: 'ghcr.io', repo: 'ghcr.io/o/app', digest: 'sha256:ab' }],
  ])('splits %j', (ref, parts) => {
    expect(splitImageRef(ref)).toEqual({ tag: undefined, digest: undefined, ...parts })
  })
})

describe('normalizeRegistry', () => {
  it('maps Docker Hub aliases and strips schemes and paths', () => {
    expect(normalizeRegistry('https://index.docker.io/v1/')).toBe('docker.io')
    expect(normalizeRegistry('registry-1.docker.io')).toBe('docker.io')
    expect(normalizeRegistry('http://LOCALHOST:5000/')).toBe('localhost:5000')
  })
})
