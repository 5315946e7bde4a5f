// Cross-repository blob mounts through the push relay, measured on a real docker-registry: the real engine pushes an
// image whose base layer is already in another repository of the registry. A logging front between the writer and the
// registry shows what was mounted and what was uploaded (bytes of every blob upload request); the same push without
// mount sources is the control. Under token auth, the mount's token asks for pull on the source repository.
import { randomBytes } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  skipWithoutEngine,
  startRegistry,
  TEST_LABEL,
  type RunningRegistry,
} from '@imagespec/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRegistryWriter, type PushRelay } from '../src/index.js'
import {
  docker,
  dockerLogin,
  startFront,
  startTokenRegistry,
  tempDir,
  type Front,
  type TokenRegistry,
  type TokenServer,
} from './_helpers.js'

const RUN_ID = `mount-${process.pid}-${Date.now()}`
const BASE_BYTES = 3 << 20
const skip = await skipWithoutEngine()

/** Builds `FROM from` (or scratch) plus one file of `bytes` random bytes; returns the image name. */
async function buildImage(
  name: string,
  from: string,
  bytes: number,
  dockerConfig: string,
): Promise<string> {
  const dir = tempDir('imagespec-mount-')
  writeFileSync(join(dir, 'data.bin'), randomBytes(bytes))
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${from}\nCOPY data.bin /${name.length}-data.bin\n`)
  await docker(['build', '-q', '--label', `${TEST_LABEL}=${RUN_ID}`, '-t', name, dir], dockerConfig)
  rmSync(dir, { recursive: true, force: true })
  return name
}

/** What a push through `relay` sent to the registry's repository `repo`: blob upload bytes and completed blob PUTs. */
function uploads(front: Front, repo: string, since: number) {
  const mine = front.exchanges
    .slice(since)
    .filter((e) => e.url.startsWith(`/v2/${repo}/blobs/uploads/`))
  return {
    bytes: mine
      .filter((e) => e.method !== 'POST' || !e.url.includes('mount='))
      .reduce((n, e) => n + e.bytes, 0),
    puts: mine
      .filter((e) => e.method === 'PUT' && e.status === 201)
      .map((e) => new URL(e.url, 'http://x').searchParams.get('digest')),
    mounts: mine
      .filter((e) => e.method === 'POST' && e.url.includes('mount='))
      .map((e) => ({
        digest: new URL(e.url, 'http://x').searchParams.get('mount'),
        status: e.status,
      })),
  }
}

async function pushThrough(relay: PushRelay, image: string, dockerConfig: string): Promise<void> {
  try {
    await docker(['tag', image, relay.reference], dockerConfig)
    await docker(['push', relay.reference], dockerConfig)
    await docker(['rmi', relay.reference], dockerConfig)
  } finally {
    await relay.close()
  }
}

describe.skipIf(skip)('cross-repository blob mounts on a plain HTTP registry', () => {
  let registry: RunningRegistry
  let front: Front
  let dockerConfig: string
  let base: string
  let app: string
  let baseLayer: string

  beforeAll(async () => {
    dockerConfig = tempDir()
    registry = await startRegistry()
    front = await startFront(registry.url)
    // The engine pushes the base itself (so it knows the layer's digest, as for any image it pushed or pulled).
    base = await buildImage(`${front.host}/imagespec/base:1`, 'scratch', BASE_BYTES, dockerConfig)
    await docker(['push', base], dockerConfig)
    app = await buildImage(`imagespec-test/mount-app:${RUN_ID}`, base, 1000, dockerConfig)
    const manifest = (await (
      await fetch(`${registry.url}/v2/imagespec/base/manifests/1`, {
        headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      })
    ).json()) as { layers: { digest: string }[] }
    baseLayer = manifest.layers[0]!.digest
  })
  afterAll(async () => {
    for (const image of [app, base])
      if (image) await docker(['rmi', image], dockerConfig).catch(() => undefined)
    front?.close()
    await registry?.stop()
    if (dockerConfig) rmSync(dockerConfig, { recursive: true, force: true })
  })

  it('mounts the base layer from the base repository instead of uploading it', async () => {
    const writer = createRegistryWriter({ dockerConfig })
    const seen: string[] = []
    const since = front.exchanges.length
    const relay = await writer.pushRelay(`${front.host}/imagespec/app:1`, {
      mountFrom: [base, 'docker.io/library/python:3.11', `${front.host}/imagespec/app:0`],
      onMount: (m) => seen.push(m.digest),
    })
    await pushThrough(relay, app, dockerConfig)
    writer.close()

    expect(relay.pushed).toHaveLength(1)
    expect(relay.mounted).toEqual([
      { digest: baseLayer, from: 'imagespec/base', size: expect.any(Number) as number },
    ])
    expect(relay.mounted[0]!.size).toBeGreaterThan(BASE_BYTES)
    expect(seen).toEqual([baseLayer])
    // What the registry saw: one mount (201), and blob PUTs for the new layer and the config only.
    const sent = uploads(front, 'imagespec/app', since)
    expect(sent.mounts).toEqual([{ digest: baseLayer, status: 201 }])
    expect(sent.puts).toHaveLength(2)
    expect(sent.puts).not.toContain(baseLayer)
    expect(sent.bytes).toBeLessThan(64 << 10)
    expect(relay.uploadedBytes).toBe(sent.bytes)
    expect(relay.uploadedBlobs).toBe(2)
    const res = await fetch(`${registry.url}/v2/imagespec/app/blobs/${baseLayer}`, {
      method: 'HEAD',
    })
    expect(res.status).toBe(200)
  })

  it('uploads the base layer without mount sources (the control)', async () => {
    const writer = createRegistryWriter({ dockerConfig })
    const since = front.exchanges.length
    const relay = await writer.pushRelay(`${front.host}/imagespec/app-control:1`)
    await pushThrough(relay, app, dockerConfig)
    writer.close()

    expect(relay.mounted).toEqual([])
    const sent = uploads(front, 'imagespec/app-control', since)
    expect(sent.mounts).toEqual([])
    expect(sent.puts).toHaveLength(3)
    expect(sent.puts).toContain(baseLayer)
    expect(sent.bytes).toBeGreaterThan(BASE_BYTES)
    expect(relay.uploadedBytes).toBe(sent.bytes)
  })
})

describe.skipIf(skip)('cross-repository blob mounts with token auth', () => {
  let registry: RunningRegistry
  let token: TokenRegistry
  let tokens: TokenServer
  let dockerConfig: string
  let base: string
  let app: string

  beforeAll(async () => {
    dockerConfig = tempDir()
    token = await startTokenRegistry()
    ;({ registry, tokens } = token)
    await dockerLogin(registry, dockerConfig)
    base = await buildImage(`${registry.host}/imagespec/base:1`, 'scratch', 1 << 20, dockerConfig)
    await docker(['push', base], dockerConfig)
    app = await buildImage(`imagespec-test/mount-app-token:${RUN_ID}`, base, 1000, dockerConfig)
  })
  afterAll(async () => {
    for (const image of [app, base])
      if (image) await docker(['rmi', image], dockerConfig).catch(() => undefined)
    await token?.stop()
    if (dockerConfig) rmSync(dockerConfig, { recursive: true, force: true })
  })

  it('asks one token for push on the target and pull on the source, and mounts', async () => {
    const writer = createRegistryWriter({ dockerConfig })
    tokens.requests.length = 0
    const relay = await writer.pushRelay(`${registry.host}/imagespec/app:1`, { mountFrom: [base] })
    const bare = tempDir() // the engine pushes to the relay without any login
    try {
      await pushThrough(relay, app, bare)
    } finally {
      writer.close()
      rmSync(bare, { recursive: true, force: true })
    }
    expect(relay.mounted.map((m) => m.from)).toEqual(['imagespec/base'])
    const scopes = tokens.requests.map((r) =>
      new URL(r.url!, 'http://x').searchParams.getAll('scope').join(' '),
    )
    expect(scopes).toContain('repository:imagespec/app:pull,push repository:imagespec/base:pull')
  })
})
