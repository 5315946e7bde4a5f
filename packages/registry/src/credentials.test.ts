import { inspect } from 'node:util'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { checkDockerConfig, resolveCredentials } from './credentials.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function config(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'imagespec-creds-'))
  dirs.push(dir)
  writeFileSync(
    join(dir, 'config.json'),
    typeof content === 'string' ? content : JSON.stringify(content),
  )
  return dir
}
const b64 = (s: string) => Buffer.from(s).toString('base64')

describe('Docker Hub keys, as the docker CLI reads them', () => {
  it('finds Hub credentials under https://index.docker.io/v1/, index.docker.io or docker.io only', async () => {
    for (const key of ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io']) {
      const dockerConfig = config({ auths: { [key]: { auth: b64('hub:pw') } } })
      expect(await resolveCredentials('docker.io', { dockerConfig })).toEqual({
        username: 'hub',
        password: 'pw',
      })
    }
  })

  it('does not take registry-1.docker.io or registry.hub.docker.com credentials for Docker Hub', async () => {
    const dockerConfig = config({
      auths: {
        'registry-1.docker.io': { auth: b64('a:1') },
        'https://registry.hub.docker.com': { auth: b64('b:2') },
      },
    })
    expect(await resolveCredentials('docker.io', { dockerConfig })).toBeUndefined()
    expect(await resolveCredentials('registry-1.docker.io', { dockerConfig })).toEqual({
      username: 'a',
      password: '1',
    })
  })
})

describe('resolveCredentials from config.json', () => {
  it('decodes auths entries, by host or URL key, with passwords containing colons', async () => {
    const dockerConfig = config({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub:p:w') },
        'http://127.0.0.1:5000': { auth: b64('local:pw') },
        'ghcr.io': { identitytoken: 'refresh-me' },
        'r.example': { username: 'u', password: 'p' },
      },
    })
    expect(await resolveCredentials('docker.io', { dockerConfig })).toEqual({
      username: 'hub',
      password: 'p:w',
    })
    expect(await resolveCredentials('127.0.0.1:5000', { dockerConfig })).toEqual({
      username: 'local',
      password: 'pw',
    })
    expect(await resolveCredentials('ghcr.io', { dockerConfig })).toEqual({
      identityToken: 'refresh-me',
    })
    expect(await resolveCredentials('r.example', { dockerConfig })).toEqual({
      username: 'u',
      password: 'p',
    })
    expect(await resolveCredentials('quay.io', { dockerConfig })).toBeUndefined()
  })

  it('finds config.json through DOCKER_CONFIG, and nothing when there is none', async () => {
    const dir = config({ auths: { 'a.io': { auth: b64('x:y') } } })
    expect(await resolveCredentials('a.io', { env: { DOCKER_CONFIG: dir } })).toEqual({
      username: 'x',
      password: 'y',
    })
    expect(
      await resolveCredentials('a.io', { env: { DOCKER_CONFIG: join(dir, 'nope') } }),
    ).toBeUndefined()
  })

  it('prefers explicit credentials', async () => {
    const dockerConfig = config({ auths: { 'a.io': { auth: b64('x:y') } } })
    expect(
      await resolveCredentials('a.io', {
        dockerConfig,
        credentials: { 'https://a.io': { username: 'e', password: 'f' } },
      }),
    ).toEqual({ username: 'e', password: 'f' })
  })

  it('ignores empty entries (credsStore style)', async () => {
    expect(
      await resolveCredentials('a.io', { dockerConfig: config({ auths: { 'a.io': {} } }) }),
    ).toBeUndefined()
  })

  it.each([
    ['{not json', 'is not valid JSON'],
    ['[]', '"(root)" has the wrong type'],
    [{ auths: [] }, '"auths" has the wrong type'],
    [{ auths: { 'a.io': 'x' } }, '"auths" has the wrong type'],
    [{ credHelpers: { 'a.io': 1 } }, '"credHelpers" has the wrong type'],
    [{ credsStore: true }, '"credsStore" has the wrong type'],
    [{ auths: { 'a.io': { auth: b64('nocolon') } } }, 'invalid "auth" value'],
  ])('rejects a bad config (%j) with one line, without secrets', async (content, why) => {
    const err = await resolveCredentials('a.io', { dockerConfig: config(content) }).catch(
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ code: 'E_CONFIG_INVALID' })
    expect((err as Error).message).toContain(why)
    expect((err as Error).message).not.toContain('\n')
    expect((err as Error).message).not.toContain('nocolon')
    // checkDockerConfig checks the file's structure (an entry's auth value is checked when it is used).
    if (!why.includes('"auth"'))
      expect(
        await checkDockerConfig({ dockerConfig: config(content) }).catch((e: unknown) => e),
      ).toMatchObject({ code: 'E_CONFIG_INVALID' })
  })

  it('never keeps an excerpt of a malformed config (it holds passwords), not even in the cause', async () => {
    const err = await resolveCredentials('a.io', {
      dockerConfig: config('{"auths": {"a.io": {"auth": "c2VjcmV0OnB3"}}, oops'),
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'E_CONFIG_INVALID' })
    expect(inspect(err, { depth: 10 })).not.toContain('c2VjcmV0OnB3')
  })

  it('reports a credential helper that is not installed', async () => {
    const dockerConfig = config({ credHelpers: { 'a.io': 'imagespec-absent' } })
    const err = await resolveCredentials('a.io', {
      dockerConfig,
      env: { PATH: '/nonexistent' },
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'E_REGISTRY_AUTH',
      message:
        'Credential helper "docker-credential-imagespec-absent" failed for "a.io": not found on PATH',
    })
  })
})
