// A real docker-registry over plain HTTP on loopback, real images pushed through the engine and the registry API.
import { skipWithoutEngine, startRegistry, type RunningRegistry } from '@imagespec/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProbe, probeImage, type Prober } from '../src/index.js'
import { pushIndex, pushThroughEngine, useTinyImage } from './_helpers.js'

const skip = await skipWithoutEngine()
const tiny = useTinyImage(skip)

describe.skipIf(skip)('probe a plain HTTP registry', () => {
  let registry: RunningRegistry
  let prober: Prober
  let digest: string
  let indexDigest: string

  beforeAll(async () => {
    registry = await startRegistry()
    prober = createProbe({ dockerConfig: tiny.dockerConfig })
    digest = await pushThroughEngine(
      tiny.image,
      `${registry.host}/imagespec/tiny:1`,
      tiny.dockerConfig,
    )
    indexDigest = await pushIndex(registry.url, 'imagespec/multi', 'v1', [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ])
  })

  afterAll(async () => {
    prober?.close()
    await registry?.stop()
  })

  it('finds a pushed tag with the digest the engine pushed', async () => {
    expect(await prober.probe(`${registry.host}/imagespec/tiny:1`)).toEqual({
      status: 'exists',
      reference: `${registry.host}/imagespec/tiny:1`,
      digest,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    })
  })

  it('answers missing for an absent tag and an absent repository', async () => {
    expect(await prober.probe(`${registry.host}/imagespec/tiny:2`)).toMatchObject({
      status: 'missing',
    })
    expect(await prober.probe(`${registry.host}/imagespec/nothing-here:1`)).toMatchObject({
      status: 'missing',
    })
  })

  it('probes by digest', async () => {
    expect(await prober.probe(`${registry.host}/imagespec/tiny@${digest}`)).toMatchObject({
      status: 'exists',
      digest,
    })
    expect(
      await prober.probe(`${registry.host}/imagespec/tiny@sha256:${'0'.repeat(64)}`),
    ).toMatchObject({ status: 'missing' })
  })

  it('reads the platform of a single-platform image from its config when platforms are asked', async () => {
    expect(
      await prober.probe(`${registry.host}/imagespec/tiny:1`, {
        platforms: ['linux/amd64', 'linux/arm64'],
      }),
    ).toMatchObject({
      status: 'exists',
      platforms: ['linux/amd64'],
      missingPlatforms: ['linux/arm64'],
    })
  })

  it('lists the platforms of a multi-platform index and reports the missing one', async () => {
    const answer = await prober.probe(`${registry.host}/imagespec/multi:v1`, {
      platforms: ['linux/amd64', 'linux/arm64', 'linux/ppc64le'],
    })
    expect(answer).toEqual({
      status: 'exists',
      reference: `${registry.host}/imagespec/multi:v1`,
      digest: indexDigest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      missingPlatforms: ['linux/ppc64le'],
    })
    expect(await prober.probe(`${registry.host}/imagespec/multi@${indexDigest}`)).toMatchObject({
      status: 'exists',
      platforms: ['linux/amd64', 'linux/arm64/v8'],
    })
  })

  it('probes many references in one call', async () => {
    const refs = Array.from(
      { length: 20 },
      (_, i) => `${registry.host}/imagespec/tiny:${i % 2 === 0 ? '1' : `absent-${i}`}`,
    )
    const answers = await prober.probeMany(refs, { concurrency: 4 })
    expect(answers.map((a) => a.status)).toEqual(
      refs.map((r) => (r.endsWith(':1') ? 'exists' : 'missing')),
    )
  })

  it('works through localhost as well as 127.0.0.1 (both loopback: plain HTTP)', async () => {
    expect(
      await probeImage(`localhost:${registry.port}/imagespec/tiny:1`, {
        dockerConfig: tiny.dockerConfig,
      }),
    ).toMatchObject({ status: 'exists', digest })
  })

  it('answers unknown(network) when marked secure: HTTPS is then required', async () => {
    const answer = await probeImage(`${registry.host}/imagespec/tiny:1`, {
      dockerConfig: tiny.dockerConfig,
      insecureLoopback: false,
      retries: 0,
    })
    expect(answer).toMatchObject({ status: 'unknown', reason: 'network' })
  })
})
