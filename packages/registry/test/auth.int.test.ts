// Real docker-registry with authentication: htpasswd Basic over TLS (self-signed CA), and token auth with a token
// server signing RS256 JWTs. Credentials come from options, a config.json written by `docker login`, and a fake
// credential helper on PATH.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  skipWithoutEngine,
  startRegistry,
  TEST_CREDENTIALS,
  type RunningRegistry,
} from '@imagespec/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProbe, probeImage, resolveCredentials, type ProbeOptions } from '../src/index.js'
import {
  loginAndPush,
  startTokenRegistry,
  tempDir,
  useTinyImage,
  writeCredentialHelper,
  type TokenRegistry,
  type TokenServer,
} from './_helpers.js'

const { username: USER, password: PASS } = TEST_CREDENTIALS
const skip = await skipWithoutEngine()
const tiny = useTinyImage(skip)

describe.skipIf(skip)('htpasswd Basic auth over TLS', () => {
  let registry: RunningRegistry
  let digest: string
  let emptyConfig: string
  // Verified TLS: loopback is not treated as insecure here, so the self-signed certificate must be trusted through `caFile`.
  const verified = (extra: ProbeOptions = {}): ProbeOptions => ({
    insecureLoopback: false,
    caFile: registry.caFile!,
    dockerConfig: emptyConfig,
    ...extra,
  })

  beforeAll(async () => {
    registry = await startRegistry({ basic: true, tls: true })
    emptyConfig = tempDir()
    ;[digest] = await loginAndPush(registry, tiny, 'imagespec/tiny:1')
  })
  afterAll(async () => {
    await registry?.stop()
    if (emptyConfig) rmSync(emptyConfig, { recursive: true, force: true })
  })

  it('finds the image with explicit credentials over verified TLS', async () => {
    const answer = await probeImage(
      `${registry.host}/imagespec/tiny:1`,
      verified({ credentials: { [registry.host]: { username: USER, password: PASS } } }),
    )
    expect(answer).toMatchObject({ status: 'exists', digest })
  })

  it('uses the credentials `docker login` stored in config.json (auths)', async () => {
    expect(
      JSON.parse(readFileSync(join(tiny.dockerConfig, 'config.json'), 'utf8')).auths[registry.host]
        .auth,
    ).toBeTruthy()
    const prober = createProbe(verified({ dockerConfig: tiny.dockerConfig }))
    try {
      expect(await prober.probe(`${registry.host}/imagespec/tiny:1`)).toMatchObject({
        status: 'exists',
        digest,
      })
      expect(await prober.probe(`${registry.host}/imagespec/tiny:2`)).toMatchObject({
        status: 'missing',
      })
      expect(await prober.probe(`${registry.host}/imagespec/other:1`)).toMatchObject({
        status: 'missing',
      })
    } finally {
      prober.close()
    }
  })

  it('uses a credential helper from credHelpers and from credsStore', async () => {
    const dir = tempDir()
    try {
      const env = {
        PATH: `${writeCredentialHelper(dir, registry.host, USER, PASS)}:${process.env.PATH}`,
        HOME: dir,
      }
      writeFileSync(
        join(dir, 'config.json'),
        JSON.stringify({
          auths: { [registry.host]: {} },
          credHelpers: { [registry.host]: 'imagespectest' },
        }),
      )
      expect(
        await probeImage(`${registry.host}/imagespec/tiny:1`, verified({ dockerConfig: dir, env })),
      ).toMatchObject({ status: 'exists', digest })
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ credsStore: 'imagespectest' }))
      expect(await resolveCredentials(registry.host, { dockerConfig: dir, env })).toEqual({
        username: USER,
        password: PASS,
      })
      expect(
        await resolveCredentials('other.example:5000', { dockerConfig: dir, env }),
      ).toBeUndefined()
      expect(
        await probeImage(`${registry.host}/imagespec/tiny:1`, verified({ dockerConfig: dir, env })),
      ).toMatchObject({ status: 'exists', digest })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('answers unknown(auth) for wrong credentials and for none, without leaking the password', async () => {
    const wrong = await probeImage(
      `${registry.host}/imagespec/tiny:1`,
      verified({ credentials: { [registry.host]: { username: USER, password: 'hunter2-wrong' } } }),
    )
    expect(wrong).toMatchObject({ status: 'unknown', reason: 'auth' })
    expect(JSON.stringify(wrong)).not.toContain('hunter2')
    expect(await probeImage(`${registry.host}/imagespec/tiny:1`, verified())).toMatchObject({
      status: 'unknown',
      reason: 'auth',
    })
  })

  it('does not trust the self-signed certificate without the CA', async () => {
    const answer = await probeImage(`${registry.host}/imagespec/tiny:1`, {
      insecureLoopback: false,
      retries: 0,
      dockerConfig: tiny.dockerConfig,
    })
    expect(answer).toMatchObject({ status: 'unknown', reason: 'network' })
    expect(answer.status === 'unknown' && answer.message).toContain('SELF_SIGNED')
  })

  it('treats loopback as insecure by default (plain HTTP, then unverified HTTPS, as Docker), so no CA is needed', async () => {
    expect(
      await probeImage(`${registry.host}/imagespec/tiny:1`, { dockerConfig: tiny.dockerConfig }),
    ).toMatchObject({
      status: 'exists',
      digest,
    })
  })
})

describe.skipIf(skip)('token auth (Bearer, RS256 JWTs from a token server)', () => {
  let registry: RunningRegistry
  let token: TokenRegistry
  let tokens: TokenServer
  let digest: string
  let dir: string

  beforeAll(async () => {
    token = await startTokenRegistry()
    ;({ registry, tokens, dir } = token)
    ;[digest] = await loginAndPush(registry, tiny, 'imagespec/tiny:1')
  })
  afterAll(async () => {
    await token?.stop()
  })

  it('gets a token with the stored credentials, caches it per scope, and answers exists/missing', async () => {
    const prober = createProbe({ dockerConfig: tiny.dockerConfig })
    try {
      const before = tokens.requests.length
      expect(await prober.probe(`${registry.host}/imagespec/tiny:1`)).toMatchObject({
        status: 'exists',
        digest,
      })
      expect(
        await prober.probe(`${registry.host}/imagespec/tiny:1`, { platforms: ['linux/amd64'] }),
      ).toMatchObject({ status: 'exists', missingPlatforms: [] })
      expect(await prober.probe(`${registry.host}/imagespec/tiny:absent`)).toMatchObject({
        status: 'missing',
      })
      expect(await prober.probe(`${registry.host}/imagespec/absent-repo:1`)).toMatchObject({
        status: 'missing',
      })
      const scopes = tokens.requests
        .slice(before)
        .map((r) => new URL(r.url!, 'http://x').searchParams.get('scope'))
      expect(scopes).toEqual([
        'repository:imagespec/tiny:pull',
        'repository:imagespec/absent-repo:pull',
      ])
      expect(
        tokens.requests.slice(before).every((r) => r.headers.authorization?.startsWith('Basic ')),
      ).toBe(true)
    } finally {
      prober.close()
    }
  })

  it('answers unknown(auth) for wrong credentials and for anonymous access', async () => {
    const wrong = await probeImage(`${registry.host}/imagespec/tiny:1`, {
      credentials: { [registry.host]: { username: USER, password: 'nope-secret' } },
      dockerConfig: dir,
    })
    expect(wrong).toMatchObject({ status: 'unknown', reason: 'auth' })
    expect(JSON.stringify(wrong)).not.toContain('nope-secret')
    expect(
      await probeImage(`${registry.host}/imagespec/tiny:1`, { dockerConfig: dir }),
    ).toMatchObject({ status: 'unknown', reason: 'auth' })
  })
})
