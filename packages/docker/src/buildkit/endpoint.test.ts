import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import { parseBuildkitHost } from './endpoint.js'

describe('parseBuildkitHost', () => {
  it('reads unix://, tcp:// and dockerd+ addresses', () => {
    expect(parseBuildkitHost('unix:///run/buildkit/buildkitd.sock', {})).toEqual({
      kind: 'unix',
      socketPath: '/run/buildkit/buildkitd.sock',
      address: 'unix:///run/buildkit/buildkitd.sock',
    })
    expect(parseBuildkitHost(undefined, {})).toMatchObject({
      kind: 'unix',
      socketPath: '/run/buildkit/buildkitd.sock',
    })
    expect(parseBuildkitHost('tcp://buildkitd:1234', {})).toEqual({
      kind: 'tcp',
      host: 'buildkitd',
      port: 1234,
      tls: undefined,
      address: 'tcp://buildkitd:1234',
    })
    expect(parseBuildkitHost('dockerd+unix:///var/run/docker.sock', {})).toMatchObject({
      kind: 'dockerd',
      engine: { protocol: 'unix', socketPath: '/var/run/docker.sock' },
    })
    expect(
      parseBuildkitHost('dockerd+tcp://127.0.0.1:2376', {
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: '/certs',
      }),
    ).toMatchObject({
      kind: 'dockerd',
      engine: { protocol: 'https', host: '127.0.0.1', port: 2376, certPath: '/certs' },
    })
    expect(parseBuildkitHost('dockerd+tcp://127.0.0.1:2375', {})).toMatchObject({
      engine: { protocol: 'http' },
    })
  })

  it("takes TLS files by buildctl's names (a directory, or each file)", () => {
    const dir = useTempDir('imagespec-bk-tls-')
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), f)
    const ep = parseBuildkitHost('tcp://10.0.0.1:1234', {
      BUILDKIT_TLS_DIR: dir,
      BUILDKIT_TLS_SERVERNAME: 'buildkitd',
    })
    expect(ep).toMatchObject({ kind: 'tcp', tls: { servername: 'buildkitd' } })
    const tls = ep.kind === 'tcp' ? ep.tls : undefined
    expect([tls?.ca, tls?.cert, tls?.key].map(String)).toEqual(['ca.pem', 'cert.pem', 'key.pem'])
    const caOnly = parseBuildkitHost('tcp://h:1', { BUILDKIT_TLS_CACERT: join(dir, 'ca.pem') })
    expect(caOnly.kind === 'tcp' && caOnly.tls?.cert).toBe(undefined)
  })

  it.each([
    ['npipe:////./pipe/buildkitd', 'Unsupported BuildKit host'],
    ['tcp://buildkitd', 'Unsupported BuildKit host'], // no port
    ['unix://relative.sock', 'Unsupported BuildKit host'],
    ['dockerd+ssh://me@host', 'Unsupported BuildKit host'],
    ['dockerd+fd://', 'Unsupported Docker host'],
  ])('refuses %s', (address, message) => {
    expect(() => parseBuildkitHost(address, {})).toThrow(
      expect.objectContaining({
        code: 'E_CONFIG_INVALID',
        message: expect.stringContaining(message),
      }),
    )
  })

  it('refuses TLS settings it cannot use', () => {
    expect(() => parseBuildkitHost('tcp://h:1', { BUILDKIT_TLS_CERT: '/x/cert.pem' })).toThrow(
      /must be set together/,
    )
    expect(() =>
      parseBuildkitHost('tcp://h:1', { BUILDKIT_TLS_CACERT: '/nonexistent/ca.pem' }),
    ).toThrow('Cannot read the BuildKit TLS file "/nonexistent/ca.pem"')
  })
})
