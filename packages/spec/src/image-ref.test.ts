import { describe, expect, it } from 'vitest'
import {
  DOCKER_HUB_AUTH_SERVER,
  formatReference,
  isLoopbackHost,
  normalizeRegistry,
  parseReference,
} from './image-ref.js'

describe('parseReference', () => {
  // [input, registry, repository, tag]: the API host is Docker Hub's for docker.io, else the registry itself.
  it.each([
    ['python', 'docker.io', 'library/python', 'latest'],
    ['python:3.11', 'docker.io', 'library/python', '3.11'],
    ['docker.io/python', 'docker.io', 'library/python', 'latest'],
    ['index.docker.io/acme/app:1', 'docker.io', 'acme/app', '1'],
    ['acme/app', 'docker.io', 'acme/app', 'latest'],
    ['ghcr.io/acme/app/sub:v1.2_3', 'ghcr.io', 'acme/app/sub', 'v1.2_3'],
    ['localhost/app', 'localhost', 'app', 'latest'],
    [
      'localhost:5000/imagespec/python-base:3.11',
      'localhost:5000',
      'imagespec/python-base',
      '3.11',
    ],
    ['127.0.0.1:5000/a', '127.0.0.1:5000', 'a', 'latest'],
    ['[::1]:5000/a:b', '[::1]:5000', 'a', 'b'],
    ['Registry/a', 'Registry', 'a', 'latest'],
    ['localhost:5000', 'docker.io', 'library/localhost', '5000'],
    ['a__b-c---d/e.f_g', 'docker.io', 'a__b-c---d/e.f_g', 'latest'],
  ])('normalises %s', (input, registry, repository, tag) => {
    const apiHost = registry === 'docker.io' ? 'registry-1.docker.io' : registry
    expect(parseReference(input)).toEqual({ registry, apiHost, repository, tag })
  })

  it('keeps digests, with or without a tag', () => {
    const d = `sha256:${'a'.repeat(64)}`
    expect(parseReference(`busybox@${d}`)).toEqual({
      registry: 'docker.io',
      apiHost: 'registry-1.docker.io',
      repository: 'library/busybox',
      digest: d,
    })
    expect(parseReference(`h:1/b:t@${d}`)).toMatchObject({
      registry: 'h:1',
      repository: 'b',
      tag: 't',
      digest: d,
    })
  })

  it.each([
    ['', 'it is empty'],
    [' python', 'whitespace'],
    ['a'.repeat(64).replace(/a/g, 'f'), 'image id'],
    ['Acme', 'must be lowercase'],
    ['acme/App', 'must be lowercase'],
    ['acme/app:', 'not a valid tag'],
    ['acme/app:-x', 'not a valid tag'],
    ['acme//app', 'not a valid repository name'],
    ['acme/app_', 'not a valid repository name'],
    ['-bad.io/app', 'not a valid registry host'],
    ['app@sha256:abc', 'not a valid digest'],
    [`app@sha256:${'A'.repeat(64)}`, 'lowercase hexadecimal'],
    [`app@md5:${'a'.repeat(32)}`, 'not supported'],
    [`r.io/${'a'.repeat(260)}`, 'longer than 255'],
    ['127.0.0.1:99999/x:y', 'port 99999 is out of range'],
    ['localhost:0/x', 'port 0 is out of range'],
    [`r.io:${'9'.repeat(400)}/x`, 'port 9999999999… is out of range'],
  ])('rejects %j with one line', (input, why) => {
    let err: unknown
    try {
      parseReference(input)
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ name: 'ImagespecError', code: 'E_REFERENCE_INVALID' })
    const message = (err as Error).message
    expect(message).toContain(why)
    expect(message).not.toContain('\n')
  })
})

describe('formatReference', () => {
  it('formats fully qualified and familiar forms', () => {
    const d = `sha256:${'b'.repeat(64)}`
    expect(formatReference(parseReference('python'))).toBe('docker.io/library/python:latest')
    expect(formatReference(parseReference('python:3'), { familiar: true })).toBe('python:3')
    expect(formatReference(parseReference('acme/app:1'), { familiar: true })).toBe('acme/app:1')
    expect(formatReference(parseReference(`ghcr.io/a/b:1@${d}`), { familiar: true })).toBe(
      `ghcr.io/a/b:1@${d}`,
    )
    expect(formatReference(parseReference(`localhost:5000/a@${d}`))).toBe(`localhost:5000/a@${d}`)
  })

  it('round-trips', () => {
    for (const r of ['docker.io/library/python:3.11', 'ghcr.io/a/b:c', '127.0.0.1:5000/x/y:z'])
      expect(formatReference(parseReference(r))).toBe(r)
  })
})

describe('normalizeRegistry', () => {
  it.each([
    ['docker.io', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    [DOCKER_HUB_AUTH_SERVER, 'docker.io'],
    ['http://index.docker.io/v1/', 'docker.io'],
    // The docker CLI knows no other Docker Hub alias: these are registries of their own.
    ['registry-1.docker.io', 'registry-1.docker.io'],
    ['registry.hub.docker.com', 'registry.hub.docker.com'],
    ['https://registry-1.docker.io/v2/', 'registry-1.docker.io'],
    ['http://127.0.0.1:5000/v2/', '127.0.0.1:5000'],
    ['localhost:5000/', 'localhost:5000'],
    ['ghcr.io', 'ghcr.io'],
    ['[::1]:5000', '[::1]:5000'],
    // Case is kept, as docker's ConvertToHostname keeps it.
    ['GHCR.io', 'GHCR.io'],
  ])('%s -> %s', (address, key) => {
    expect(normalizeRegistry(address)).toBe(key)
  })

  it("names a parsed reference's registry as it is written in a credential store", () => {
    for (const ref of ['python', 'index.docker.io/acme/app', 'docker.io/acme/app:1'])
      expect(normalizeRegistry(parseReference(ref).registry)).toBe(
        normalizeRegistry(DOCKER_HUB_AUTH_SERVER),
      )
    expect(normalizeRegistry(parseReference('localhost:5000/a').registry)).toBe('localhost:5000')
  })
})

describe('isLoopbackHost', () => {
  it.each(['localhost', '127.0.0.1', '127.255.3.4', '::1'])(
    'a bare hostname: %s is loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(true)
    },
  )

  it.each([
    'localhost:5000',
    '127.0.0.1:5000',
    '[::1]',
    '[::1]:5000',
    'LOCALHOST',
    '128.0.0.1',
    '10.0.0.1',
    '127.0.0',
    'ghcr.io',
    'localhost.example.com',
    '::2',
    '',
  ])('a bare hostname: %s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false)
  })

  it.each([
    'localhost',
    'localhost:5000',
    '127.0.0.1',
    '127.0.0.1:5000',
    '127.1.2.3:80',
    '[::1]',
    '[::1]:5000',
  ])('a registry: %s is loopback', (host) => {
    expect(isLoopbackHost(host, { registry: true })).toBe(true)
  })

  it.each([
    '::1',
    '[::2]:5000',
    'localhost:',
    'localhost:x',
    '128.0.0.1:5000',
    'ghcr.io',
    'docker.io',
    'LOCALHOST:5000',
    '',
  ])('a registry: %s is not', (host) => {
    expect(isLoopbackHost(host, { registry: true })).toBe(false)
  })

  it('ignores the case of localhost when asked', () => {
    expect(isLoopbackHost('LocalHost:5000', { registry: true, ignoreCase: true })).toBe(true)
    expect(isLoopbackHost('LOCALHOST', { ignoreCase: true })).toBe(true)
  })
})
