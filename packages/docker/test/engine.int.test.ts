import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DOCKER_SOCKET,
  ensureBaseImage,
  freePort,
  skipWithoutEngine,
  startEngineProxy,
  type TcpEngineProxy,
} from '@imagespec/test-utils'
import { createDockerClient } from '../src/index.js'
import { LABELS, removeAfterTest, removeLabelled, RUN_ID, tarOf } from './_helpers.js'

describe('engine unavailable', () => {
  it('reports E_ENGINE_UNAVAILABLE for a missing socket, with the host and a hint', async () => {
    const driver = createDockerClient({ host: 'unix:///nonexistent/docker.sock' })
    await expect(driver.ping()).rejects.toMatchObject({
      code: 'E_ENGINE_UNAVAILABLE',
      message: 'Cannot reach the Docker engine at "unix:///nonexistent/docker.sock"',
      hint: expect.stringContaining('DOCKER_HOST'),
    })
    await expect(
      driver.build({ context: tarOf({ Dockerfile: 'FROM scratch\n' }) }),
    ).rejects.toMatchObject({
      code: 'E_ENGINE_UNAVAILABLE',
    })
  })

  it('reports E_ENGINE_UNAVAILABLE for a refused TCP port (DOCKER_HOST from the environment)', async () => {
    const port = await freePort()
    const driver = createDockerClient({ env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } })
    expect(driver.host).toEqual({
      protocol: 'http',
      host: '127.0.0.1',
      port,
      address: `tcp://127.0.0.1:${port}`,
    })
    await expect(driver.ping()).rejects.toMatchObject({
      code: 'E_ENGINE_UNAVAILABLE',
      message: `Cannot reach the Docker engine at "tcp://127.0.0.1:${port}"`,
    })
  })
})

describe.skipIf(await skipWithoutEngine())('DockerDriver engine calls (real engine)', () => {
  let proxy: TcpEngineProxy
  beforeAll(async () => {
    // A plain TCP front for the engine's unix socket, to exercise tcp:// hosts (requests, session hijack, streams).
    proxy = await startEngineProxy({ tcp: true })
  })
  afterAll(async () => {
    await removeLabelled()
    await proxy?.stop()
  })

  it('pings the engine on the unix socket', async () => {
    const info = await createDockerClient({ host: `unix://${DOCKER_SOCKET}` }).ping()
    expect(info.apiVersion).toMatch(/^1\.\d+$/)
    expect(info.version).not.toBe('')
  })

  it('builds with a secret over a tcp:// host (the BuildKit session works over TCP too)', async () => {
    const driver = createDockerClient({ host: `tcp://127.0.0.1:${proxy.port}` })
    expect((await driver.ping()).apiVersion).toMatch(/^1\./)
    const tag = `imagespec-test/tcp:${RUN_ID.slice(0, 8)}`
    removeAfterTest(tag)
    const base = await ensureBaseImage()
    const secret = `tcp-secret-${RUN_ID}`
    const sum = createHash('sha256').update(secret).digest('hex')
    const result = await driver.build({
      context: tarOf({
        Dockerfile: `FROM ${base}\nRUN --mount=type=secret,id=s,required=true test "$(sha256sum < /run/secrets/s)" = "${sum}  -"\n`,
      }),
      tags: [tag],
      labels: LABELS,
      secrets: { s: secret },
      nocache: true,
    })
    expect(await driver.imageExists(tag)).toBe(true)
    expect((await driver.inspectImage(tag))?.id).toBe(result.imageId)
  })

  it('tags, inspects and removes local images', async () => {
    const driver = createDockerClient()
    const source = `imagespec-test/tag-src:${RUN_ID.slice(0, 8)}`
    const target = `localhost:5999/imagespec-test/tag-dst:${RUN_ID.slice(0, 8)}`
    removeAfterTest(source, target)
    const { imageId } = await driver.build({
      context: tarOf({ Dockerfile: 'FROM scratch\nCOPY a /a\n', a: RUN_ID }),
      tags: [source],
      labels: LABELS,
    })
    await driver.tag(source, target)
    const info = await driver.inspectImage(target)
    expect(info).toMatchObject({ id: imageId, labels: LABELS })
    expect(info?.repoTags).toEqual(expect.arrayContaining([source, target]))
    expect(await driver.removeImage(target)).toBe(true)
    expect(await driver.removeImage(target)).toBe(false)
    expect(await driver.inspectImage(target)).toBeUndefined()
    expect(await driver.imageExists(source)).toBe(true)
    await expect(driver.tag(`imagespec-test/absent:${RUN_ID}`, target)).rejects.toMatchObject({
      code: 'E_BUILD_FAILED',
      message: `Image "imagespec-test/absent:${RUN_ID}" not found in the local image store`,
    })
    // dockerd 20.10 answers 500 (newer engines 400, giving E_REFERENCE_INVALID); the engine's message is kept
    await expect(driver.tag(source, 'UPPER/x:1')).rejects.toMatchObject({
      message: `Cannot tag "${source}" as "UPPER/x:1": invalid reference format: repository name must be lowercase`,
    })
  })
})
