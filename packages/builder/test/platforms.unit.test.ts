// Multi-platform planning with recording engines and an in-memory registry (the real engines and registry are in
// test/platforms.int.test.ts): only missing platforms build, native engines first, max_builds, failover, the index.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { ImagespecError, specFromObject, type BuilderEvent, type LoadedSpec } from '@imagespec/spec'
import type {
  IndexEntry,
  ManifestDocument,
  PushRelay,
  PushRelayOptions,
  RegistryWriter,
} from '@imagespec/registry'
import { createEngine, Fleet, loadFleetFile, type FleetMember } from '../src/index.js'

const scratch = mkdtempSync(path.join(tmpdir(), 'imagespec-platforms-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const V2 = 'application/vnd.docker.distribution.manifest.v2+json'
const LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'

const spec = (platform: string): LoadedSpec =>
  specFromObject(
    { name: 'app', python_version: '3.11', registry: 'localhost:5999', platform },
    { cwd: scratch, env: {} },
  )

/** An in-memory registry: tags → documents; relays record what members push to them. */
function memoryRegistry() {
  const tags = new Map<string, ManifestDocument>()
  const relays = new Map<
    string,
    PushRelay & { pushed: IndexEntry[]; options: PushRelayOptions | undefined }
  >()
  const puts: string[] = []
  let n = 0
  const writer: RegistryWriter = {
    async getManifest(ref) {
      return tags.get(String(ref))
    },
    async manifestPlatform() {
      return { os: 'linux', architecture: 'amd64' }
    },
    async imageLabels() {
      return undefined
    },
    async putManifest(ref, m) {
      const body = Buffer.from(m.body)
      const doc = JSON.parse(body.toString()) as { manifests: IndexEntry[] }
      const digest = `sha256:index${++n}`
      tags.set(String(ref), {
        reference: String(ref),
        digest,
        mediaType: m.mediaType,
        size: body.length,
        body,
        manifests: doc.manifests,
      })
      puts.push(String(ref))
      return digest
    },
    deleteTag: async () => false,
    blobExists: async () => false,
    mountBlob: async () => false,
    async pushRelay(_ref, options) {
      const relay = {
        host: '127.0.0.1:1',
        reference: `127.0.0.1:1/app:relay${++n}`,
        pushed: [] as IndexEntry[],
        mounted: [],
        uploadedBytes: 0,
        uploadedBlobs: 0,
        options,
        close: async () => undefined,
      }
      relays.set(relay.reference, relay)
      return relay
    },
    close: () => undefined,
  }
  return { writer, tags, relays, puts }
}

/** A recording engine: builds by reading the context, "pushes" into the relay it is given. */
function member(
  address: string,
  reg: ReturnType<typeof memoryRegistry>,
  opts: { arch?: string; down?: boolean; failAt?: string } = {},
) {
  const builds: string[] = []
  let running = 0
  let peak = 0
  const m: FleetMember & { builds: string[]; peak: () => number } = {
    address,
    local: true,
    builds,
    peak: () => peak,
    async ping() {
      if (opts.down)
        throw new ImagespecError(
          'E_ENGINE_UNAVAILABLE',
          `Cannot reach the Docker engine at "${address}"`,
        )
      return { os: 'linux', arch: opts.arch ?? 'amd64' }
    },
    async build(o) {
      o.context.resume()
      running++
      peak = Math.max(peak, running)
      await new Promise((r) => setTimeout(r, 20))
      running--
      if (opts.failAt === o.platform)
        throw new ImagespecError('E_BUILD_FAILED', 'Build failed at step "[2/3] RUN pip install"', {
          details: ['error: boom'],
        })
      builds.push(o.platform!)
      return {}
    },
    async push(ref) {
      const relay = reg.relays.get(ref)!
      // A base layer the relay mounts from the base image's repository.
      relay.options?.onMount?.({ digest: 'sha256:baselayer', from: 'base', size: 7 })
      relay.pushed.push({
        mediaType: V2,
        digest: `sha256:child-${builds.at(-1)!.replace('/', '-')}-${address}`,
        size: 100,
      })
      return {}
    },
    tag: async () => undefined,
    removeImage: async () => true,
  }
  return m
}

function engineWith(
  reg: ReturnType<typeof memoryRegistry>,
  members: { m: FleetMember; platforms?: string[]; maxBuilds?: number }[],
) {
  return createEngine({
    lockDir: path.join(scratch, 'locks'),
    exists: async () => ({ status: 'missing' }),
    defaultBuilder: {
      auth: async () => undefined,
      packContext: () => Readable.from([]),
      writer: async () => reg.writer,
      fleet: async () =>
        new Fleet(
          members.map(({ m, platforms = [], maxBuilds = 1 }) => ({
            member: m,
            platforms,
            maxBuilds,
          })),
        ),
    },
  })
}

describe('multi-platform builds', () => {
  it('builds each platform on its native engine and puts one manifest list with both children', async () => {
    const reg = memoryRegistry()
    const a = member('unix:///a.sock', reg)
    const b = member('unix:///b.sock', reg)
    const events: BuilderEvent[] = []
    const loaded = spec('linux/amd64,linux/arm64')
    const outcome = await engineWith(reg, [{ m: a }, { m: b, platforms: ['linux/arm64'] }]).build(
      loaded,
      { onEvent: (e) => events.push(e) },
    )
    expect(a.builds).toEqual(['linux/amd64'])
    expect(b.builds).toEqual(['linux/arm64'])
    expect(reg.puts).toEqual([outcome.imageName])
    const index = reg.tags.get(outcome.imageName)!
    expect(index.mediaType).toBe(LIST)
    expect(index.manifests!.map((m) => [m.platform, m.digest])).toEqual([
      [{ os: 'linux', architecture: 'amd64' }, 'sha256:child-linux-amd64-unix:///a.sock'],
      [{ os: 'linux', architecture: 'arm64' }, 'sha256:child-linux-arm64-unix:///b.sock'],
    ])
    expect(outcome).toMatchObject({
      build: true,
      digest: index.digest,
      platforms: {
        'linux/amd64': { status: 'built', engine: 'unix:///a.sock' },
        'linux/arm64': { status: 'built', engine: 'unix:///b.sock' },
      },
    })
    // Build progress carries its platform.
    expect(
      events
        .filter((e) => e.type === 'platform')
        .map((e) => e.type === 'platform' && `${e.platform} ${e.status}`)
        .sort(),
    ).toEqual([
      'linux/amd64 building',
      'linux/amd64 built',
      'linux/arm64 building',
      'linux/arm64 built',
    ])
  })

  it("gives each relay the spec's base image to mount layers from, and reports mounts as push progress", async () => {
    const reg = memoryRegistry()
    const a = member('unix:///a.sock', reg)
    const events: BuilderEvent[] = []
    const loaded = specFromObject(
      {
        name: 'app',
        python_version: '3.11',
        registry: 'localhost:5999',
        base_image: 'localhost:5999/base:1',
        platform: 'linux/amd64,linux/arm64',
      },
      { cwd: scratch, env: {} },
    )
    await engineWith(reg, [{ m: a }]).build(loaded, { onEvent: (e) => events.push(e) })
    expect([...reg.relays.values()].map((r) => r.options?.mountFrom)).toEqual([
      ['localhost:5999/base:1'],
      ['localhost:5999/base:1'],
    ])
    expect(
      events.filter((e) => e.type === 'push-progress' && e.status.startsWith('Mounted')),
    ).toEqual([
      {
        type: 'push-progress',
        layer: 'baselayer',
        status: 'Mounted from base',
        platform: 'linux/amd64',
      },
      {
        type: 'push-progress',
        layer: 'baselayer',
        status: 'Mounted from base',
        platform: 'linux/arm64',
      },
    ])
  })

  it('builds only the platform the index lacks and keeps the old child unchanged', async () => {
    const reg = memoryRegistry()
    const a = member('unix:///a.sock', reg)
    const loaded = spec('linux/amd64,linux/arm64')
    const first = await engineWith(reg, [{ m: a }]).build(loaded)
    const old = reg.tags.get(first.imageName)!.manifests!
    // The index loses arm64.
    const { createIndex } = await import('@imagespec/registry')
    await reg.writer.putManifest(first.imageName, createIndex([old[0]!]))
    a.builds.length = 0
    const events: BuilderEvent[] = []
    const second = await engineWith(reg, [{ m: a }]).build(loaded, {
      onEvent: (e) => events.push(e),
    })
    expect(a.builds).toEqual(['linux/arm64'])
    const now = reg.tags.get(first.imageName)!.manifests!
    expect(now[0]).toEqual(old[0])
    expect(now.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64'])
    expect(second.platforms).toEqual({
      'linux/amd64': { status: 'present', digest: old[0]!.digest },
      'linux/arm64': { status: 'built', engine: 'unix:///a.sock', digest: now[1]!.digest },
    })
    expect(
      events.some(
        (e) =>
          e.type === 'platform' &&
          e.platform === 'linux/arm64' &&
          e.status === 'building' &&
          e.emulated,
      ),
    ).toBe(true)
  })

  it('skips a down engine with a warning (failover) and respects max_builds', async () => {
    const reg = memoryRegistry()
    const a = member('unix:///a.sock', reg)
    const down = member('tcp://127.0.0.1:1', reg, { down: true })
    const events: BuilderEvent[] = []
    const outcome = await engineWith(reg, [
      { m: a, maxBuilds: 1 },
      { m: down, platforms: ['linux/arm64'] },
    ]).build(spec('linux/amd64,linux/arm64'), { onEvent: (e) => events.push(e) })
    expect(a.builds.sort()).toEqual(['linux/amd64', 'linux/arm64'])
    expect(a.peak()).toBe(1)
    expect(outcome.platforms!['linux/arm64']).toMatchObject({
      status: 'built',
      engine: 'unix:///a.sock',
    })
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'notice',
        level: 'warn',
        text: expect.stringContaining('Engine tcp://127.0.0.1:1 is unavailable and is skipped'),
      }),
    )
  })

  it('runs two platforms at once on one engine with max_builds 2', async () => {
    const reg = memoryRegistry()
    const a = member('unix:///a.sock', reg)
    await engineWith(reg, [{ m: a, maxBuilds: 2 }]).build(spec('linux/amd64,linux/arm64'))
    expect(a.peak()).toBe(2)
  })

  it('fails the platform whose build fails, with its step and log tail, and publishes nothing', async () => {
    const reg = memoryRegistry()
    const a = member('unix:///a.sock', reg, { failAt: 'linux/arm64' })
    await expect(
      engineWith(reg, [{ m: a }]).build(spec('linux/amd64,linux/arm64')),
    ).rejects.toMatchObject({
      code: 'E_BUILD_FAILED',
      message: 'linux/arm64: Build failed at step "[2/3] RUN pip install"',
      details: ['error: boom'],
    })
    expect(reg.puts).toEqual([])
  })

  it('plans a dry run: present platforms, and the engine each missing one would build on', async () => {
    const reg = memoryRegistry()
    const a = member('unix:///a.sock', reg)
    const b = member('unix:///b.sock', reg, { arch: 'arm64' })
    const outcome = await engineWith(reg, [{ m: a }, { m: b }]).build(
      spec('linux/amd64,linux/arm64'),
      { dryRun: true },
    )
    expect(outcome.description?.platforms).toEqual({
      'linux/amd64': { status: 'build', engine: 'unix:///a.sock', emulated: false },
      'linux/arm64': { status: 'build', engine: 'unix:///b.sock', emulated: false },
    })
    expect(a.builds).toEqual([])
  })

  it('builds a child on a standalone buildkitd member by pushing it by digest within the build: no relay, no tag, no push call', async () => {
    const reg = memoryRegistry()
    const a = member('unix:///a.sock', reg)
    const calls: unknown[] = []
    const buildkitd: FleetMember = {
      address: 'tcp://127.0.0.1:1234',
      local: true,
      pushesByDigest: true,
      ping: async () => ({ os: 'linux', arch: 'arm64' }),
      async build(o) {
        o.context.resume()
        calls.push({ tags: o.tags, platform: o.platform, push: o.push, byDigest: o.pushByDigest })
        const digest = 'sha256:bk-arm64'
        const body = Buffer.from('{}')
        reg.tags.set(`${o.tags[0]}@${digest}`, {
          reference: `${o.tags[0]}@${digest}`,
          digest,
          mediaType: V2,
          size: 123,
          body,
        })
        return { pushed: [{ ref: o.tags[0]!, digest }] }
      },
      push: () => Promise.reject(new Error('a standalone buildkitd has nothing to push from')),
      tag: () => Promise.reject(new Error('no tag')),
      removeImage: () => Promise.reject(new Error('nothing to remove')),
    }
    const outcome = await engineWith(reg, [
      { m: a },
      { m: buildkitd, platforms: ['linux/arm64'] },
    ]).build(spec('linux/amd64,linux/arm64'))
    expect(calls).toEqual([
      { tags: ['localhost:5999/app'], platform: 'linux/arm64', push: true, byDigest: true },
    ])
    expect(reg.relays.size).toBe(1) // a's only
    expect(reg.tags.get(outcome.imageName)!.manifests![1]).toEqual({
      mediaType: V2,
      digest: 'sha256:bk-arm64',
      size: 123,
      platform: { os: 'linux', architecture: 'arm64' },
    })
    expect(outcome.platforms!['linux/arm64']).toEqual({
      status: 'built',
      engine: 'tcp://127.0.0.1:1234',
      digest: 'sha256:bk-arm64',
    })
  })

  it('refuses a multi-platform build without a push', async () => {
    const reg = memoryRegistry()
    const a = member('unix:///a.sock', reg)
    await expect(
      engineWith(reg, [{ m: a }]).build(spec('linux/amd64,linux/arm64'), {
        settings: {
          push: false,
          force: false,
          fastFail: false,
          labels: {},
          render: {},
          cacheFrom: [],
          cacheTo: [],
        },
      }),
    ).rejects.toMatchObject({ code: 'E_USAGE' })
  })
})

describe('fleet files', () => {
  it('reads YAML and JSON, with defaults', async () => {
    const yaml = path.join(scratch, 'fleet.yaml')
    writeFileSync(
      yaml,
      'engines:\n  - host: unix:///var/run/docker.sock\n  - host: tcp://127.0.0.1:2375\n    platforms: [linux/arm64]\n    max_builds: 2\n',
    )
    expect(await loadFleetFile(yaml)).toEqual([
      { host: 'unix:///var/run/docker.sock', platforms: [], maxBuilds: 1, buildkit: false },
      { host: 'tcp://127.0.0.1:2375', platforms: ['linux/arm64'], maxBuilds: 2, buildkit: false },
    ])
    const json = path.join(scratch, 'fleet.json')
    writeFileSync(
      json,
      JSON.stringify({ engines: [{ host: 'ssh://me@127.0.0.1', platforms: ['linux/amd64'] }] }),
    )
    expect(await loadFleetFile(json)).toEqual([
      { host: 'ssh://me@127.0.0.1', platforms: ['linux/amd64'], maxBuilds: 1, buildkit: false },
    ])
  })

  it('reads BuildKit endpoints: a dockerd+ host, or unix:// and tcp:// with buildkit: true', async () => {
    const file = path.join(scratch, 'buildkit.yaml')
    writeFileSync(
      file,
      [
        'engines:',
        '  - host: dockerd+unix:///var/run/docker.sock',
        '  - host: dockerd+tcp://127.0.0.1:2376',
        '  - {host: tcp://127.0.0.1:1234, buildkit: true, platforms: [linux/arm64]}',
        '  - {host: unix:///run/buildkit/buildkitd.sock, buildkit: true}',
        '  - {host: unix:///var/run/docker.sock, buildkit: false}',
      ].join('\n') + '\n',
    )
    expect((await loadFleetFile(file)).map((e) => [e.host, e.buildkit])).toEqual([
      ['dockerd+unix:///var/run/docker.sock', true],
      ['dockerd+tcp://127.0.0.1:2376', true],
      ['tcp://127.0.0.1:1234', true],
      ['unix:///run/buildkit/buildkitd.sock', true],
      ['unix:///var/run/docker.sock', false],
    ])
    const bad = path.join(scratch, 'buildkit-bad.yaml')
    writeFileSync(
      bad,
      [
        'engines:',
        '  - {host: dockerd+unix:///var/run/docker.sock, buildkit: false}',
        '  - {host: ssh://me@127.0.0.1, buildkit: true}',
        '  - {host: tcp://127.0.0.1:1234, buildkit: "yes"}',
      ].join('\n') + '\n',
    )
    await expect(loadFleetFile(bad)).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
      details: [
        'engines[0].buildkit: a dockerd+ host is a Docker engine\'s BuildKit; drop "buildkit: false", or drop "dockerd+" to use the Engine API',
        'engines[1].host: a BuildKit endpoint is unix:///…, tcp://host:port, dockerd+unix:///… or dockerd+tcp://host:port',
        'engines[2].buildkit: must be true or false',
      ],
    })
  })

  it('lists every problem of a bad file as E_CONFIG_INVALID', async () => {
    const bad = path.join(scratch, 'bad.yaml')
    writeFileSync(
      bad,
      'engines:\n  - host: ""\n    platforms: [arm64]\n    max_builds: 0\n    cpus: 4\n',
    )
    await expect(loadFleetFile(bad)).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
      details: [
        'engines[0].cpus: unknown field',
        'engines[0].host: must be a Docker host address such as unix:///var/run/docker.sock',
        'engines[0].platforms: must be a list of os/arch[/variant], e.g. ["linux/arm64"]',
        'engines[0].max_builds: must be a positive integer',
      ],
    })
    await expect(loadFleetFile(path.join(scratch, 'none.yaml'))).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
    })
  })
})

describe('sticky engine choice', () => {
  const reg = memoryRegistry()
  const engines = (addresses: string[]) =>
    addresses.map((a) => ({ member: member(a, reg), platforms: ['linux/amd64'], maxBuilds: 1 }))
  const choose = (fleet: Fleet, live: Awaited<ReturnType<Fleet['live']>>, key: string) =>
    fleet.assign(['linux/amd64'], live, key).get('linux/amd64')!.engine.member.address

  it('sends a spec to the same one of equal engines whatever the file order; only a down engine moves its specs', async () => {
    const addresses = ['unix:///a.sock', 'unix:///b.sock', 'unix:///c.sock']
    const fleet = new Fleet(engines(addresses))
    const live = await fleet.live(() => undefined)
    const reversed = new Fleet(engines([...addresses].reverse()))
    const liveReversed = await reversed.live(() => undefined)
    const keys = Array.from({ length: 60 }, (_, i) => `localhost:5000/app:tag${i}`)
    const chosen = new Map(keys.map((k) => [k, choose(fleet, live, k)]))
    for (const k of keys) {
      expect(choose(fleet, live, k)).toBe(chosen.get(k)) // sticky within a fleet
      expect(choose(reversed, liveReversed, k)).toBe(chosen.get(k)) // and across file orders
    }
    // spread over every engine (60 keys over 3 engines: all on fewer than 3 has a chance of about 1e-10)
    expect(new Set(chosen.values()).size).toBe(3)
    // c goes down: only c's specs move, the others keep their engine
    const withoutC = live.filter((e) => e.member.address !== 'unix:///c.sock')
    for (const k of keys) {
      const now = choose(fleet, withoutC, k)
      if (chosen.get(k) !== 'unix:///c.sock') expect(now).toBe(chosen.get(k))
      else expect(now).not.toBe('unix:///c.sock')
    }
  })

  it('still prefers the less loaded engine, and native before emulation', async () => {
    const fleet = new Fleet([
      ...engines(['unix:///a.sock', 'unix:///b.sock']),
      { member: member('unix:///arm.sock', reg, { arch: 'arm64' }), platforms: [], maxBuilds: 1 },
    ])
    const live = await fleet.live(() => undefined)
    const key = 'localhost:5000/app:x'
    const first = choose(fleet, live, key)
    const engine = live.find((e) => e.member.address === first)!
    let release!: () => void
    const busy = fleet.run(engine, () => new Promise<void>((r) => (release = r)))
    expect(choose(fleet, live, key)).not.toBe(first) // the other amd64 engine is idle
    expect(choose(fleet, live, key)).not.toBe('unix:///arm.sock')
    expect(fleet.assign(['linux/arm64'], live, key).get('linux/arm64')).toMatchObject({
      emulated: false,
      engine: { member: { address: 'unix:///arm.sock' } },
    })
    release()
    await busy
    expect(choose(fleet, live, key)).toBe(first)
  })
})
