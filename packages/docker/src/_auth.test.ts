import { describe, expect, it } from 'vitest'
import { findCredentials, toAuthConfig, toSessionCredentials } from './_auth.js'

describe('findCredentials', () => {
  const hub = { username: 'hub', password: 'pw' }
  it('matches keys as the docker CLI does (Docker Hub: docker.io, index.docker.io, its v1 URL)', async () => {
    for (const key of ['docker.io', 'index.docker.io', 'https://index.docker.io/v1/'])
      expect(await findCredentials({ [key]: hub }, 'docker.io')).toBe(hub)
    expect(await findCredentials({ 'http://localhost:5000/': hub }, 'localhost:5000')).toBe(hub)
  })

  it('treats registry-1.docker.io as a registry of its own', async () => {
    expect(await findCredentials({ 'registry-1.docker.io': hub }, 'docker.io')).toBeUndefined()
    expect(await findCredentials({ 'registry-1.docker.io': hub }, 'registry-1.docker.io')).toBe(hub)
  })

  it('hands a resolver the normalized name', async () => {
    const asked: string[] = []
    await findCredentials((r) => (asked.push(r), undefined), 'index.docker.io')
    expect(asked).toEqual(['docker.io'])
  })
})

describe('credential shapes', () => {
  it('maps to BuildKit session answers', () => {
    expect(toSessionCredentials({ username: 'u', password: 'p' })).toEqual({
      username: 'u',
      secret: 'p',
    })
    expect(toSessionCredentials({ identityToken: 't', username: 'u' })).toEqual({
      username: '',
      secret: 't',
    })
    expect(toSessionCredentials({ username: 'u' })).toBeUndefined()
    expect(toSessionCredentials(undefined)).toBeUndefined()
  })

  it('maps to the Engine API AuthConfig', () => {
    expect(toAuthConfig({ username: 'u', password: 'p' }, 'r:5000')).toEqual({
      username: 'u',
      password: 'p',
      serveraddress: 'r:5000',
    })
    expect(toAuthConfig({ identityToken: 'i', registryToken: 'b' }, 'docker.io')).toEqual({
      identitytoken: 'i',
      registrytoken: 'b',
      serveraddress: 'docker.io',
    })
    expect(toAuthConfig(undefined, 'docker.io')).toEqual({ serveraddress: 'docker.io' })
  })
})
