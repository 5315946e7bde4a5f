// probeMany: the concurrency limit, argument errors before any request, and answering many tags from tag lists.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createProbe } from './index.js'
import {
  testProber,
  closeFakes,
  serve,
  DOCKER_V2,
  DIGEST,
  ok,
  fast,
  type Handler,
} from '../test/_fake-registry.js'

afterEach(closeFakes)

describe('probeMany and argument errors', () => {
  it('runs with a concurrency limit and keeps the order', async () => {
    let inFlight = 0
    let most = 0
    const { host } = await serve((req, res) => {
      most = Math.max(most, ++inFlight)
      setTimeout(() => {
        inFlight--
        if (req.url!.endsWith('/missing')) res.writeHead(404).end()
        else ok(res)
      }, 20)
    })
    const prober = testProber()
    const refs = Array.from(
      { length: 12 },
      (_, i) => `${host}/r${i}:${i % 3 === 0 ? 'missing' : 'x'}`,
    )
    const answers = await prober.probeMany(refs, { concurrency: 3 })
    expect(answers.map((a) => a.status)).toEqual(
      refs.map((r) => (r.endsWith('missing') ? 'missing' : 'exists')),
    )
    expect(answers.map((a) => a.reference)).toEqual(refs)
    expect(most).toBeLessThanOrEqual(3)
    expect(most).toBeGreaterThan(1)
  })

  it('rejects bad references and options before any request', async () => {
    const { host, requests } = await serve((_req, res) => ok(res))
    const prober = testProber()
    await expect(prober.probeMany([`${host}/ok:1`, 'Bad/Ref'])).rejects.toMatchObject({
      code: 'E_REFERENCE_INVALID',
    })
    await expect(prober.probe(`${host}/ok:1`, { platforms: ['amd64'] })).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
    })
    expect(requests).toHaveLength(0)
    expect(() => createProbe({ timeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG_INVALID' }),
    )
    expect(() => createProbe({ tagListPageSize: 2.5 })).toThrow(
      'Invalid option "tagListPageSize": 2.5',
    )
    expect(() => createProbe({ caFile: '/nonexistent/ca.pem' })).toThrow(
      'Cannot read the CA file "/nonexistent/ca.pem"',
    )
  })
})

describe('probeMany through tag lists', () => {
  /**
   * A fake registry holding `repos` (repository -> tags): HEAD answers the manifest of a held tag, the tag list pages
   * by `n`/`last` with distribution's `Link` header; `tagsList` may replace the tag list's answer.
   */
  async function fakeRegistry(repos: Record<string, string[]>, tagsList?: Handler) {
    return serve((req, res) => {
      const url = new URL(req.url!, 'http://x')
      const list = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname)
      if (list) {
        if (tagsList) return tagsList(req, res)
        const tags = repos[list[1]!]
        if (!tags)
          return res.writeHead(404, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }],
            }),
          )
        const sorted = [...tags].sort()
        const n = Number(url.searchParams.get('n') ?? sorted.length)
        const last = url.searchParams.get('last')
        const from = last === null ? 0 : sorted.findIndex((t) => t > last)
        const page = from === -1 ? [] : sorted.slice(from, from + n)
        const headers: Record<string, string> = { 'content-type': 'application/json' }
        if (from !== -1 && from + n < sorted.length)
          headers.link = `</v2/${list[1]}/tags/list?last=${page.at(-1)}&n=${n}>; rel="next"`
        return res.writeHead(200, headers).end(JSON.stringify({ name: list[1], tags: page }))
      }
      const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname)
      if (
        manifest &&
        (repos[manifest[1]!]?.includes(manifest[2]!) || manifest[2]!.startsWith('sha256:'))
      )
        return ok(res)
      res.writeHead(404).end()
    })
  }
  const lines = (requests: IncomingMessage[]) => requests.map((r) => `${r.method} ${r.url}`)
  const perReference = async (prober: ReturnType<typeof createProbe>, refs: string[]) =>
    Promise.all(refs.map((r) => prober.probe(r)))
  const withoutDigests = (answers: object[]) =>
    answers
      .map((a) => ('digest' in a ? { ...a, digest: undefined, mediaType: undefined } : a))
      .map((a) => JSON.parse(JSON.stringify(a)))

  it('answers absent tags from one tag list and HEADs only the present ones (digests kept)', async () => {
    const { host, requests } = await fakeRegistry({ 'a/b': ['1', '2', '3', 'x'] })
    const prober = testProber()
    const refs = ['1', '2', '3', '4', '5', '6'].map((t) => `${host}/a/b:${t}`)
    const answers = await prober.probeMany(refs, { tagList: true })
    expect(answers.map((a) => a.status)).toEqual([
      'exists',
      'exists',
      'exists',
      'missing',
      'missing',
      'missing',
    ])
    expect(answers[0]).toEqual({
      status: 'exists',
      reference: refs[0],
      digest: DIGEST,
      mediaType: DOCKER_V2,
    })
    expect(lines(requests).sort()).toEqual([
      'GET /v2/a/b/tags/list',
      'HEAD /v2/a/b/manifests/1',
      'HEAD /v2/a/b/manifests/2',
      'HEAD /v2/a/b/manifests/3',
    ])
    expect(requests[0]!.headers.accept).toBe('application/json')
    requests.length = 0
    expect(answers).toEqual(await perReference(prober, refs))
  })

  it('with digests: false answers from the tag list alone: one request per repository', async () => {
    const { host, requests } = await fakeRegistry({ 'a/b': ['1', '2', '3', 'x'], c: ['9'] })
    const prober = testProber()
    const refs = [
      ...['1', '2', '3', '4', '5'].map((t) => `${host}/a/b:${t}`),
      ...['6', '7', '8', '9'].map((t) => `${host}/c:${t}`),
      ...['1', '2', '3', '4'].map((t) => `${host}/none:${t}`),
    ]
    const answers = await prober.probeMany(refs, { digests: false })
    expect(answers[0]).toEqual({ status: 'exists', reference: refs[0] })
    expect(answers.map((a) => a.status)).toEqual([
      'exists',
      'exists',
      'exists',
      'missing',
      'missing',
      'missing',
      'missing',
      'missing',
      'exists',
      'missing',
      'missing',
      'missing',
      'missing',
    ])
    expect(lines(requests).sort()).toEqual([
      'GET /v2/a/b/tags/list',
      'GET /v2/c/tags/list',
      'GET /v2/none/tags/list',
    ])
    expect(answers).toEqual(withoutDigests(await perReference(prober, refs)))
  })

  it('keeps the per-reference path (HEAD; GET for wanted platforms) for small groups, digest references, wanted platforms and tagList: false', async () => {
    const { host, requests } = await fakeRegistry({ a: ['1', '2', '3', '4'] })
    const prober = testProber()
    // Three different tags (one repeated), plus digest references: no tag list.
    const small = [
      `${host}/a:1`,
      `${host}/a:2`,
      `${host}/a:2`,
      `${host}/a:9`,
      `${host}/a@${DIGEST}`,
      `${host}/a:1@${DIGEST}`,
    ]
    expect((await prober.probeMany(small, { digests: false })).map((a) => a.status)).toEqual([
      'exists',
      'exists',
      'exists',
      'missing',
      'exists',
      'exists',
    ])
    expect(requests.every((r) => r.method === 'HEAD')).toBe(true)
    requests.length = 0
    const four = ['1', '2', '3', '9'].map((t) => `${host}/a:${t}`)
    expect(
      (await prober.probeMany(four, { tagList: false, digests: false })).map((a) => a.status),
    ).toEqual(['exists', 'exists', 'exists', 'missing'])
    expect(requests.every((r) => r.method === 'HEAD')).toBe(true)
    requests.length = 0
    // Wanted platforms need each present manifest (the fake's manifest has no config: unknown(protocol) either way).
    const withPlatforms = await prober.probeMany(four, {
      digests: false,
      platforms: ['linux/amd64'],
    })
    expect(withPlatforms.map((a) => a.status)).toEqual(['unknown', 'unknown', 'unknown', 'missing'])
    // …asked with a GET each (the body is needed), never a HEAD first.
    expect(
      lines(requests)
        .filter((l) => l.includes('/manifests/'))
        .sort(),
    ).toEqual(['GET /v2/a/manifests/1', 'GET /v2/a/manifests/2', 'GET /v2/a/manifests/3'])
  })

  // Thirty tags t00-t29 in pages of five. Each asked tag allows half a page (at least two): the pages follow the Link
  // header until every asked tag was seen or the allowance is spent; the tags still unsettled then get their HEAD.
  it.each([
    {
      name: 'twelve tags allow six pages: the whole list, so the absent tags need no HEAD',
      tags: ['t01', 't06', 't12', 'nope', 't08', 't11', 'zz', 't02', 't17', 't21', 't25', 't29'],
      statuses: [
        ...['exists', 'exists', 'exists', 'missing', 'exists', 'exists', 'missing'],
        ...['exists', 'exists', 'exists', 'exists', 'exists'],
      ],
      pages: [
        'n=5',
        'last=t04&n=5',
        'last=t09&n=5',
        'last=t14&n=5',
        'last=t19&n=5',
        'last=t24&n=5',
      ],
      heads: [],
    },
    {
      name: 'stops at the page where the last asked tag shows up',
      tags: ['t01', 't03', 't06', 't07'],
      statuses: ['exists', 'exists', 'exists', 'exists'],
      pages: ['n=5', 'last=t04&n=5'],
      heads: [],
    },
    {
      name: 'four tags allow two pages: t12 and the absent tag are not settled by then and get their HEAD',
      tags: ['t01', 't06', 't12', 'nope'],
      statuses: ['exists', 'exists', 'exists', 'missing'],
      pages: ['n=5', 'last=t04&n=5'],
      heads: ['nope', 't12'],
    },
  ])('follows Link pages: $name', async ({ tags, statuses, pages, heads }) => {
    const all = Array.from({ length: 30 }, (_, i) => `t${String(i).padStart(2, '0')}`)
    const { host, requests } = await fakeRegistry({ r: all })
    const prober = testProber({ ...fast, tagListPageSize: 5 })
    const refs = tags.map((t) => `${host}/r:${t}`)
    const answers = await prober.probeMany(refs, { digests: false })
    expect(answers.map((a) => a.status)).toEqual(statuses)
    const sent = lines(requests)
    expect(sent.filter((l) => l.includes('/tags/list'))).toEqual(
      pages.map((q) => `GET /v2/r/tags/list?${q}`),
    )
    expect(sent.filter((l) => l.startsWith('HEAD')).sort()).toEqual(
      heads.map((t) => `HEAD /v2/r/manifests/${t}`),
    )
    // as one probe per reference would answer (a tag settled by its HEAD keeps the digest the HEAD gave)
    expect(withoutDigests(answers)).toEqual(withoutDigests(await perReference(prober, refs)))
  })

  it('never follows a next link to another origin', async () => {
    const elsewhere = await serve((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"tags":["4"]}'),
    )
    const { host, requests } = await fakeRegistry({ a: ['1', '4'] }, (_req, res) =>
      res
        .writeHead(200, {
          'content-type': 'application/json',
          link: `<http://${elsewhere.host}/v2/a/tags/list?last=1>; rel="next"`,
        })
        .end('{"tags":["1"]}'),
    )
    const prober = testProber()
    const answers = await prober.probeMany(
      ['1', '2', '3', '4'].map((t) => `${host}/a:${t}`),
      { digests: false },
    )
    expect(answers.map((a) => a.status)).toEqual(['exists', 'missing', 'missing', 'exists'])
    expect(elsewhere.requests).toHaveLength(0)
    expect(lines(requests).sort()).toEqual([
      'GET /v2/a/tags/list',
      'HEAD /v2/a/manifests/2',
      'HEAD /v2/a/manifests/3',
      'HEAD /v2/a/manifests/4',
    ])
  })

  it.each([
    ['403', (res: ServerResponse) => res.writeHead(403).end()],
    ['405', (res: ServerResponse) => res.writeHead(405).end()],
    [
      '404 without NAME_UNKNOWN',
      (res: ServerResponse) => res.writeHead(404).end('404 page not found'),
    ],
    [
      '401 without a usable challenge',
      (res: ServerResponse) => res.writeHead(401, { 'www-authenticate': 'Negotiate' }).end(),
    ],
    ['503 (after the retries)', (res: ServerResponse) => res.writeHead(503).end()],
    [
      'a body that is not a tag list',
      (res: ServerResponse) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"tags":"1,2"}'),
    ],
  ])('falls back to a HEAD per reference when the tag list answers %s', async (_name, answer) => {
    const { host, requests } = await fakeRegistry({ a: ['1', '2'] }, (_req, res) => answer(res))
    const prober = testProber({ ...fast, retries: 1 })
    const refs = ['1', '2', '3', '4'].map((t) => `${host}/a:${t}`)
    const answers = await prober.probeMany(refs, { digests: false })
    expect(answers).toEqual(await perReference(prober, refs))
    expect(answers.map((a) => a.status)).toEqual(['exists', 'exists', 'missing', 'missing'])
    expect(requests.filter((r) => r.method === 'HEAD')).toHaveLength(8)
  })

  it('falls back when the tag list does not answer within half the timeout, and answers within the timeout', async () => {
    const { host } = await fakeRegistry({ a: ['1', '2'] }, () => {})
    // 2 s: the fallback HEADs get the second second, room enough on a loaded machine (800 ms failed under load 12).
    const prober = testProber({ ...fast, timeoutMs: 2000 })
    const start = Date.now()
    const answers = await prober.probeMany(
      ['1', '2', '3', '4'].map((t) => `${host}/a:${t}`),
      { digests: false },
    )
    expect(answers.map((a) => a.status)).toEqual(['exists', 'exists', 'missing', 'missing'])
    expect(Date.now() - start).toBeGreaterThanOrEqual(990)
    expect(Date.now() - start).toBeLessThan(2000)
  })

  it('answers unknown(timeout) at once for every reference when the caller aborts during the tag list', async () => {
    const { host } = await fakeRegistry({}, () => {})
    const prober = testProber()
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const start = Date.now()
    const answers = await prober.probeMany(
      ['1', '2', '3', '4'].map((t) => `${host}/a:${t}`),
      { signal: controller.signal, tagList: true },
    )
    expect(
      answers.every(
        (a) =>
          a.status === 'unknown' && a.reason === 'timeout' && a.message === 'The probe was aborted',
      ),
    ).toBe(true)
    expect(Date.now() - start).toBeLessThan(400)
  })

  it('authenticates the tag list as a HEAD: Bearer token for repository:<name>:pull, fetched once', async () => {
    const tokens = await serve((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token: 'tk', expires_in: 300 })),
    )
    const reg = await fakeRegistry({ a: ['1', '2', '3'] })
    const inner = reg.requests
    const guarded = await serve((req, res) => {
      if (req.headers.authorization !== 'Bearer tk')
        return res
          .writeHead(401, {
            'www-authenticate': `Bearer realm="http://${tokens.host}/token",service="fake",scope="repository:a:pull"`,
          })
          .end()
      // Forward to the fake registry.
      const forward = httpRequest(
        {
          host: '127.0.0.1',
          port: Number(reg.host.split(':')[1]),
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (r) => {
          res.writeHead(r.statusCode!, r.headers)
          r.pipe(res)
        },
      )
      req.pipe(forward)
    })
    const prober = testProber()
    const refs = ['1', '2', '3', '4', '5'].map((t) => `${guarded.host}/a:${t}`)
    expect((await prober.probeMany(refs, { digests: false })).map((a) => a.status)).toEqual([
      'exists',
      'exists',
      'exists',
      'missing',
      'missing',
    ])
    expect(tokens.requests.map((r) => r.url)).toEqual([
      '/token?service=fake&scope=repository%3Aa%3Apull',
    ])
    expect(lines(inner)).toEqual(['GET /v2/a/tags/list'])
  })
})
