// probeMany through tag lists (GET /v2/<name>/tags/list) against a real docker-registry, plain HTTP and token auth.
// A loopback front records the requests the registry gets, pages the tag list (Debian's docker-registry 2.8 does not
// page tag lists), or refuses it, to check the fallback.
import {
  skipWithoutEngine,
  startRegistry,
  TEST_CREDENTIALS,
  type RunningRegistry,
} from '@imagespec/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createProbe,
  type ExistenceResult,
  type ProbeOptions,
  type ProbeResult,
  type Prober,
} from '../src/index.js'
import {
  loginAndPush,
  pushTags,
  pushThroughEngine,
  startFront,
  startTokenRegistry,
  type Front,
  useTinyImage,
  type TokenRegistry,
  type TokenServer,
} from './_helpers.js'

const skip = await skipWithoutEngine()

const tiny = useTinyImage(skip)
const fronts: Front[] = []
const probers: Prober[] = []
afterAll(() => {
  fronts.forEach((f) => f.close())
  probers.forEach((p) => p.close())
})

async function front(upstream: string, options?: Parameters<typeof startFront>[1]): Promise<Front> {
  const f = await startFront(upstream, options)
  fronts.push(f)
  return f
}
function prober(options: ProbeOptions = {}): Prober {
  const p = createProbe({ dockerConfig: tiny.dockerConfig, ...options })
  probers.push(p)
  return p
}
/** The answers of one `probe()` per reference, through a fresh prober (no tag list involved). */
async function perReference(refs: string[], options: ProbeOptions = {}): Promise<ProbeResult[]> {
  const p = prober(options)
  return Promise.all(refs.map((r) => p.probe(r)))
}
/** What `digests: false` may drop: the digest and media type of an `exists` answer. */
function existenceOf(answers: readonly ExistenceResult[]): ExistenceResult[] {
  return answers.map((a) =>
    a.status === 'exists' ? { status: a.status, reference: a.reference } : a,
  )
}
const sorted = (xs: string[]) => [...xs].sort()

describe.skipIf(skip)('tag lists on a plain HTTP registry', () => {
  let registry: RunningRegistry
  let engineDigest: string
  let digest: string
  const present = Array.from({ length: 12 }, (_, i) => `p${String(i).padStart(2, '0')}`)

  beforeAll(async () => {
    registry = await startRegistry()
    digest = await pushTags(registry.url, 'imagespec/many', present)
    engineDigest = await pushThroughEngine(
      tiny.image,
      `${registry.host}/imagespec/many:engine`,
      tiny.dockerConfig,
    )
  })
  afterAll(async () => {
    await registry?.stop()
  })

  it('answers mixed present and absent tags from one tag list, as one probe per reference would', async () => {
    const f = await front(registry.url)
    const refs = [
      ...['p00', 'p03', 'engine', 'absent-1', 'p07', 'absent-2', 'p11', 'P00'].map(
        (t) => `${f.host}/imagespec/many:${t}`,
      ),
      ...['1', '2', '3', '4'].map((t) => `${f.host}/imagespec/no-such-repo:${t}`),
      `${f.host}/imagespec/many@${digest}`,
    ]
    const expected = await perReference(refs)
    expect(expected.map((a) => a.status)).toEqual([
      'exists',
      'exists',
      'exists',
      'missing',
      'exists',
      'missing',
      'exists',
      'missing',
      'missing',
      'missing',
      'missing',
      'missing',
      'exists',
    ])
    expect(expected[2]).toMatchObject({ digest: engineDigest })

    // By default (digests wanted) no list: every reference gets its manifest request, one round trip in all.
    f.requests.length = 0
    expect(await prober().probeMany(refs)).toEqual(expected)
    expect(f.requests.filter((r) => r.includes('/tags/list'))).toEqual([])

    f.requests.length = 0
    const answers = await prober().probeMany(refs, { tagList: true })
    expect(answers).toEqual(expected) // digests kept
    expect(sorted(f.requests)).toEqual(
      sorted([
        'GET /v2/imagespec/many/tags/list',
        'GET /v2/imagespec/no-such-repo/tags/list',
        ...['p00', 'p03', 'engine', 'p07', 'p11', digest].map(
          (t) => `HEAD /v2/imagespec/many/manifests/${t}`,
        ),
      ]),
    )

    f.requests.length = 0
    const existence = await prober().probeMany(refs, { digests: false })
    expect(existence).toEqual([...existenceOf(expected.slice(0, -1)), expected.at(-1)]) // the digest reference keeps its HEAD
    expect(existence[0]).toEqual({ status: 'exists', reference: refs[0] })
    expect(sorted(f.requests)).toEqual([
      'GET /v2/imagespec/many/tags/list',
      'GET /v2/imagespec/no-such-repo/tags/list',
      `HEAD /v2/imagespec/many/manifests/${digest}`,
    ])
  })

  it('follows the Link pages of a paged tag list', async () => {
    const f = await front(registry.url, { paginate: true })
    const p = prober({ tagListPageSize: 5 })
    // The 13 tags in order: engine, p00..p11; pages of 5: [engine p00 p01 p02 p03] [p04..p08] [p09 p10 p11].
    const refs = ['p01', 'p05', 'p10', 'zz-absent', 'p06', 'p11'].map(
      (t) => `${f.host}/imagespec/many:${t}`,
    )
    const answers = await p.probeMany(refs, { digests: false })
    expect(answers).toEqual(existenceOf(await perReference(refs)))
    expect(answers.map((a) => a.status)).toEqual([
      'exists',
      'exists',
      'exists',
      'missing',
      'exists',
      'exists',
    ])
    expect(f.requests.filter((r) => r.includes('/tags/list'))).toEqual([
      'GET /v2/imagespec/many/tags/list?n=5',
      'GET /v2/imagespec/many/tags/list?last=p03&n=5',
      'GET /v2/imagespec/many/tags/list?last=p08&n=5',
    ])

    // Four tags allow two pages: p10 (page 3) and the absent tag are left to a HEAD each (which keeps its digest).
    f.requests.length = 0
    const few = ['p01', 'p05', 'p10', 'zz-absent'].map((t) => `${f.host}/imagespec/many:${t}`)
    const fewAnswers = await p.probeMany(few, { digests: false })
    const requests = [...f.requests]
    const fewExpected = await perReference(few)
    expect(fewAnswers).toEqual([...existenceOf(fewExpected.slice(0, 2)), ...fewExpected.slice(2)])
    expect(fewAnswers[2]).toMatchObject({ status: 'exists', digest })
    expect(sorted(requests)).toEqual(
      sorted([
        'GET /v2/imagespec/many/tags/list?n=5',
        'GET /v2/imagespec/many/tags/list?last=p03&n=5',
        'HEAD /v2/imagespec/many/manifests/p10',
        'HEAD /v2/imagespec/many/manifests/zz-absent',
      ]),
    )
  })

  it.each([
    ['403', 403, ''],
    ['405', 405, ''],
    ['404 without NAME_UNKNOWN', 404, '404 page not found'],
    ['401 with no usable challenge', 401, ''],
  ])(
    'falls back to one HEAD per reference when the tag list answers %s',
    async (_name, status, body) => {
      const f = await front(registry.url, {
        tagsList: (res) =>
          res
            .writeHead(status, status === 401 ? { 'www-authenticate': 'Negotiate' } : {})
            .end(body),
      })
      const refs = ['p00', 'p01', 'engine', 'absent-1', 'absent-2'].map(
        (t) => `${f.host}/imagespec/many:${t}`,
      )
      const expected = await perReference(refs)
      f.requests.length = 0
      expect(await prober().probeMany(refs, { digests: false })).toEqual(expected)
      expect(sorted(f.requests)).toEqual(
        sorted([
          'GET /v2/imagespec/many/tags/list',
          ...['p00', 'p01', 'engine', 'absent-1', 'absent-2'].map(
            (t) => `HEAD /v2/imagespec/many/manifests/${t}`,
          ),
        ]),
      )
    },
  )
})

describe.skipIf(skip)('tag lists on a token-auth registry', () => {
  let registry: RunningRegistry
  let token: TokenRegistry
  let tokens: TokenServer
  let dir: string
  let f: Front
  const tags = ['1', '2', '3', '4']

  beforeAll(async () => {
    token = await startTokenRegistry()
    ;({ registry, tokens, dir } = token)
    await loginAndPush(registry, tiny, ...tags.map((tag) => `imagespec/tiny:${tag}`))
    f = await front(registry.url)
  })
  afterAll(async () => {
    await token?.stop()
  })

  it('gets one pull token for the repository and answers from the tag list', async () => {
    // The credentials docker login stored are keyed by the registry's own host; the front has another port.
    const credentials = { [f.host]: TEST_CREDENTIALS }
    const refs = [...tags, 'absent-1', 'absent-2'].map((t) => `${f.host}/imagespec/tiny:${t}`)
    const expected = await perReference(refs, { credentials })
    expect(expected.map((a) => a.status)).toEqual([
      'exists',
      'exists',
      'exists',
      'exists',
      'missing',
      'missing',
    ])

    f.requests.length = 0
    const before = tokens.requests.length
    expect(await prober({ credentials }).probeMany(refs, { digests: false })).toEqual(
      existenceOf(expected),
    )
    expect(f.requests).toEqual([
      'GET /v2/imagespec/tiny/tags/list',
      'GET /v2/imagespec/tiny/tags/list',
    ]) // 401, then with the token
    const scopes = tokens.requests
      .slice(before)
      .map((r) => new URL(r.url!, 'http://x').searchParams.get('scope'))
    expect(scopes).toEqual(['repository:imagespec/tiny:pull'])

    f.requests.length = 0
    expect(await prober({ credentials }).probeMany(refs, { tagList: true })).toEqual(expected)
    expect(sorted(f.requests)).toEqual(
      sorted([
        'GET /v2/imagespec/tiny/tags/list',
        'GET /v2/imagespec/tiny/tags/list',
        ...tags.map((t) => `HEAD /v2/imagespec/tiny/manifests/${t}`),
      ]),
    )
  })

  it('falls back to HEADs, with the same unknown(auth) answers, when anonymous access is refused', async () => {
    const refs = [...tags, 'absent-1'].map((t) => `${f.host}/imagespec/tiny:${t}`)
    const expected = await perReference(refs, { dockerConfig: dir })
    expect(expected.every((a) => a.status === 'unknown' && a.reason === 'auth')).toBe(true)
    expect(await prober({ dockerConfig: dir }).probeMany(refs, { digests: false })).toEqual(
      expected,
    )
  })
})
