// Registry writes against a real docker-registry: a push by digest through the relay (the real engine pushing),
// an index put and read back, a cross-repository blob mount, and push-scope auth against htpasswd Basic.
import { rmSync } from 'node:fs'
import {
  skipWithoutEngine,
  startRegistry,
  TEST_CREDENTIALS,
  type RunningRegistry,
} from '@imagespec/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createIndex,
  createProbe,
  createRegistryWriter,
  type RegistryWriter,
} from '../src/index.js'
import { docker, loginAndPush, tempDir, useTinyImage } from './_helpers.js'

const skip = await skipWithoutEngine()
const tiny = useTinyImage(skip)

async function tags(registry: RunningRegistry, repo: string): Promise<string[]> {
  const res = await fetch(`${registry.url}/v2/${repo}/tags/list`)
  if (res.status === 404) return []
  return ((await res.json()) as { tags: string[] | null }).tags ?? []
}

describe.skipIf(skip)('registry writes on a plain HTTP registry', () => {
  let registry: RunningRegistry
  let writer: RegistryWriter

  beforeAll(async () => {
    registry = await startRegistry()
    writer = createRegistryWriter({ dockerConfig: tiny.dockerConfig })
  })
  afterAll(async () => {
    writer?.close()
    await registry?.stop()
  })

  it('lets the engine push by digest through the relay: the child exists, no tag is written', async () => {
    const relay = await writer.pushRelay(`${registry.host}/imagespec/relayed:final`)
    try {
      await docker(['tag', tiny.image, relay.reference], tiny.dockerConfig)
      await docker(['push', relay.reference], tiny.dockerConfig)
      await docker(['rmi', relay.reference], tiny.dockerConfig)
    } finally {
      await relay.close()
    }
    expect(relay.pushed).toHaveLength(1)
    const [child] = relay.pushed
    expect(child!.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json')
    expect(await tags(registry, 'imagespec/relayed')).toEqual([])
    const doc = await writer.getManifest(`${registry.host}/imagespec/relayed@${child!.digest}`)
    expect(doc).toMatchObject({
      digest: child!.digest,
      size: child!.size,
      mediaType: child!.mediaType,
    })
    expect(
      await writer.manifestPlatform(`${registry.host}/imagespec/relayed@${child!.digest}`, doc!),
    ).toEqual({ os: 'linux', architecture: 'amd64' })

    // An index over that child, put under the tag and read back; the probe sees its platform.
    const index = createIndex([{ ...child!, platform: { os: 'linux', architecture: 'amd64' } }])
    expect(index.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json')
    const digest = await writer.putManifest(`${registry.host}/imagespec/relayed:final`, index)
    expect(digest).toBe(index.digest)
    expect(await tags(registry, 'imagespec/relayed')).toEqual(['final'])
    const read = await writer.getManifest(`${registry.host}/imagespec/relayed:final`)
    expect(read?.manifests).toEqual([
      { ...child!, platform: { os: 'linux', architecture: 'amd64' } },
    ])
    const prober = createProbe({ dockerConfig: tiny.dockerConfig })
    expect(
      await prober.probe(`${registry.host}/imagespec/relayed:final`, {
        platforms: ['linux/amd64', 'linux/arm64'],
      }),
    ).toMatchObject({
      status: 'exists',
      digest,
      platforms: ['linux/amd64'],
      missingPlatforms: ['linux/arm64'],
    })
    prober.close()

    // Mount the child's config blob into another repository instead of uploading it.
    expect(await writer.blobExists(`${registry.host}/imagespec/other:x`, doc!.config!.digest)).toBe(
      false,
    )
    expect(
      await writer.mountBlob(
        `${registry.host}/imagespec/other:x`,
        doc!.config!.digest,
        'imagespec/relayed',
      ),
    ).toBe(true)
    expect(await writer.blobExists(`${registry.host}/imagespec/other:x`, doc!.config!.digest)).toBe(
      true,
    )
  })

  it('answers undefined for an absent manifest and refuses a mount of an absent blob', async () => {
    expect(await writer.getManifest(`${registry.host}/imagespec/none:1`)).toBeUndefined()
    expect(
      await writer.mountBlob(
        `${registry.host}/imagespec/other:x`,
        `sha256:${'0'.repeat(64)}`,
        'imagespec/relayed',
      ),
    ).toBe(false)
  })
})

describe.skipIf(skip)('registry writes with htpasswd Basic auth', () => {
  let registry: RunningRegistry
  let childDigest: string

  beforeAll(async () => {
    registry = await startRegistry({ basic: true })
    ;[childDigest] = await loginAndPush(registry, tiny, 'imagespec/auth:child')
  })
  afterAll(async () => {
    await registry?.stop()
  })

  it('puts an index with the credentials docker login stored', async () => {
    const writer = createRegistryWriter({ dockerConfig: tiny.dockerConfig })
    try {
      const child = await writer.getManifest(`${registry.host}/imagespec/auth:child`)
      const index = createIndex([
        {
          mediaType: child!.mediaType,
          digest: childDigest,
          size: child!.size,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ])
      expect(await writer.putManifest(`${registry.host}/imagespec/auth:idx`, index)).toBe(
        index.digest,
      )
      expect((await writer.getManifest(`${registry.host}/imagespec/auth:idx`))?.digest).toBe(
        index.digest,
      )
    } finally {
      writer.close()
    }
  })

  it('fails with E_REGISTRY_AUTH without credentials, and with wrong ones', async () => {
    const empty = tempDir()
    const none = createRegistryWriter({ dockerConfig: empty })
    const wrong = createRegistryWriter({
      dockerConfig: empty,
      credentials: { [registry.host]: { username: TEST_CREDENTIALS.username, password: 'nope' } },
    })
    try {
      const index = createIndex([
        {
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          digest: childDigest,
          size: 1,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ])
      await expect(
        none.putManifest(`${registry.host}/imagespec/auth:idx2`, index),
      ).rejects.toMatchObject({ code: 'E_REGISTRY_AUTH' })
      await expect(
        wrong.putManifest(`${registry.host}/imagespec/auth:idx2`, index),
      ).rejects.toMatchObject({ code: 'E_REGISTRY_AUTH' })
    } finally {
      none.close()
      wrong.close()
      rmSync(empty, { recursive: true, force: true })
    }
  })

  it('relays an engine push with push credentials the engine itself never sees', async () => {
    const writer = createRegistryWriter({ dockerConfig: tiny.dockerConfig })
    const relay = await writer.pushRelay(`${registry.host}/imagespec/auth:relayed`)
    try {
      const bare = tempDir() // the engine pushes to the relay without any login
      await docker(['tag', tiny.image, relay.reference], bare)
      await docker(['push', relay.reference], bare)
      await docker(['rmi', relay.reference], bare)
      rmSync(bare, { recursive: true, force: true })
    } finally {
      await relay.close()
      writer.close()
    }
    expect(relay.pushed.map((p) => p.digest)).toEqual([childDigest])
  })
})
