// Registry authentication in the probe: Basic and Bearer challenges, token servers, identity and registry tokens.
import { afterEach, describe, expect, it } from 'vitest'
import { probeImage } from './index.js'
import { closeFakes, serve, ok, fast, testProber, type Handler } from '../test/_fake-registry.js'

afterEach(closeFakes)

describe('auth against a fake registry', () => {
  it('Basic: anonymous first, then the credentials; wrong or none is unknown(auth) without secrets', async () => {
    const good = `Basic ${Buffer.from('tester:testpass').toString('base64')}`
    const { host, requests } = await serve((req, res) => {
      if (req.headers.authorization !== good)
        return res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end()
      ok(res)
    })
    const creds = (password: string) => ({
      ...fast,
      credentials: { [host]: { username: 'tester', password } },
    })
    expect(await probeImage(`${host}/a:1`, creds('testpass'))).toMatchObject({ status: 'exists' })
    expect(requests.map((r) => r.headers.authorization === good)).toEqual([false, true])
    const wrong = await probeImage(`${host}/a:1`, creds('supersecret'))
    expect(wrong).toMatchObject({ status: 'unknown', reason: 'auth' })
    expect(JSON.stringify(wrong)).not.toContain('supersecret')
    expect(await probeImage(`${host}/a:1`, fast)).toMatchObject({
      status: 'unknown',
      reason: 'auth',
    })
  })

  it('Bearer: fetches a token (access_token form), caches it per scope and authenticates up front afterwards', async () => {
    const reg = await serve((req, res) => {
      if (req.headers.authorization !== 'Bearer t0k3n')
        return res
          .writeHead(401, {
            'www-authenticate': `Bearer realm="http://${tokenHost}/token",service="fake",scope="repository:a:pull"`,
          })
          .end()
      ok(res)
    })
    const tokens = await serve((req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: 't0k3n', expires_in: 300 }))
    })
    const tokenHost = tokens.host
    const prober = testProber()
    for (let i = 0; i < 3; i++)
      expect(await prober.probe(`${reg.host}/a:1`)).toMatchObject({ status: 'exists' })
    expect(tokens.requests.map((r) => r.url)).toEqual([
      '/token?service=fake&scope=repository%3Aa%3Apull',
    ])
    expect(reg.requests.map((r) => r.headers.authorization ?? 'none')).toEqual([
      'none',
      'Bearer t0k3n',
      'Bearer t0k3n',
      'Bearer t0k3n',
    ])
  })

  it('Bearer: a token server that refuses gives unknown(auth); a token server that sends garbage gives unknown(protocol)', async () => {
    let tokenAnswer: Handler = (_req, res) => res.writeHead(401).end()
    const tokens = await serve((req, res) => tokenAnswer(req, res))
    const reg = await serve((_req, res) =>
      res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://${tokens.host}/token",service="fake"`,
        })
        .end(),
    )
    expect(await probeImage(`${reg.host}/a:1`, fast)).toMatchObject({
      status: 'unknown',
      reason: 'auth',
    })
    tokenAnswer = (_req, res) => res.writeHead(200).end('<html>')
    expect(await probeImage(`${reg.host}/a:1`, fast)).toMatchObject({
      status: 'unknown',
      reason: 'protocol',
    })
  })

  it('a 401 without a usable challenge, or a 403, is unknown(auth)', async () => {
    const a = await serve((_req, res) =>
      res.writeHead(401, { 'www-authenticate': 'Negotiate' }).end(),
    )
    expect(await probeImage(`${a.host}/a:1`, fast)).toMatchObject({
      status: 'unknown',
      reason: 'auth',
    })
    const b = await serve((_req, res) => res.writeHead(403).end())
    expect(await probeImage(`${b.host}/a:1`, fast)).toMatchObject({
      status: 'unknown',
      reason: 'auth',
    })
  })
})

describe('token flavours', () => {
  it('sends an identity token as an OAuth2 refresh_token POST, and a registry token as is', async () => {
    const forms: string[] = []
    const tokens = await serve((req, res) => {
      let body = ''
      req
        .on('data', (d) => (body += d))
        .on('end', () => {
          forms.push(`${req.method} ${body}`)
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ token: 'from-refresh' }))
        })
    })
    const reg = await serve((req, res) => {
      if (
        req.headers.authorization === 'Bearer from-refresh' ||
        req.headers.authorization === 'Bearer given'
      )
        return ok(res)
      res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://${tokens.host}/token",service="svc"`,
        })
        .end()
    })
    expect(
      await probeImage(`${reg.host}/a:1`, {
        ...fast,
        credentials: { [reg.host]: { identityToken: 'refresh-secret' } },
      }),
    ).toMatchObject({ status: 'exists' })
    expect(forms).toEqual([
      'POST grant_type=refresh_token&refresh_token=refresh-secret&service=svc&scope=repository%3Aa%3Apull&client_id=imagespec',
    ])
    expect(
      await probeImage(`${reg.host}/a:1`, {
        ...fast,
        credentials: { [reg.host]: { registryToken: 'given' } },
      }),
    ).toMatchObject({ status: 'exists' })
    expect(forms).toHaveLength(1)
  })
})
