import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BuildEvent } from '@imagespec/spec'
import {
  ensureBaseImage,
  skipWithoutEngine,
  startEngineProxy,
  type EngineProxy,
} from '@imagespec/test-utils'
import { createBuildkitClient, type BuildkitDriver } from '../src/index.js'
import {
  docker,
  failure,
  imageName,
  LABELS,
  removeAfterTest,
  removeLabelled,
  RUN_ID,
  tarOf,
} from './_helpers.js'

/**
 * The BuildKit driver against the engine's embedded BuildKit (`dockerd+unix://`, through a logging proxy on the
 * engine socket): Solve and Status on /grpc, the context and Dockerfile served over the session's filesync.
 */
describe.skipIf(await skipWithoutEngine())(
  'BuildkitDriver on dockerd+unix:// (real engine)',
  () => {
    let base: string
    let proxy: EngineProxy
    let driver: BuildkitDriver

    beforeAll(async () => {
      base = await ensureBaseImage()
      proxy = await startEngineProxy()
      driver = createBuildkitClient({
        env: { BUILDKIT_HOST: `dockerd+unix://${proxy.socketPath}` },
      })
    })
    afterAll(async () => {
      await removeLabelled()
      await proxy?.stop()
    })

    it('builds from a context served over filesync (nested files, .dockerignore) with typed events; /grpc only', async () => {
      const tag = imageName('bk-context')
      removeAfterTest(tag)
      const events: BuildEvent[] = []
      proxy.requests.length = 0
      const result = await driver.build({
        context: tarOf({
          Dockerfile: `FROM ${base}\nCOPY . /ctx/\nRUN echo ${RUN_ID} && cd /ctx && find . -type f | sort\n`,
          '.dockerignore': 'secret.txt\n**/*.pyc\n',
          'app/main.py': 'print(1)\n',
          'app/main.pyc': 'x',
          'secret.txt': 'nope',
          'z/deep/er/file.txt': 'deep',
        }),
        tags: [tag],
        labels: LABELS,
        buildArgs: { UNUSED: '1' },
        network: 'host',
        onEvent: (e) => events.push(e),
      })
      expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(proxy.requests).toEqual(['POST /grpc'])
      const image = await docker.getImage(tag).inspect()
      expect(image.Id).toBe(result.imageId)
      expect(image.Config.Labels).toMatchObject(LABELS)
      const listed = events
        .flatMap((e) => (e.type === 'log' ? [e.line] : []))
        .filter((l) => l.startsWith('./'))
      expect(listed).toEqual([
        './.dockerignore',
        './Dockerfile',
        './app/main.py',
        './z/deep/er/file.txt',
      ])
      expect(events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['step-started', 'step-completed', 'image-id']),
      )
      expect(events.at(-1)).toEqual({ type: 'result', ...result })
      expect(await driver.imageExists(tag)).toBe(true)
      // ListWorkers: the first worker's first platform is the engine's own (a fleet's native platform)
      expect(await driver.ping()).toMatchObject({
        os: 'linux',
        arch: process.arch === 'x64' ? 'amd64' : process.arch,
      })
    })

    it('a failing step rejects with E_BUILD_FAILED naming the step, with its log tail', async () => {
      const { err } = await failure(() =>
        driver.build({
          context: tarOf({
            Dockerfile: `FROM ${base}\nRUN echo ${RUN_ID} about-to-fail && exit 3\n`,
          }),
          tags: [imageName('bk-fail')],
          labels: LABELS,
        }),
      )
      expect(err).toMatchObject({
        code: 'E_BUILD_FAILED',
        message: expect.stringMatching(/^Build failed at step "\[2\/2\] RUN echo/),
        details: expect.arrayContaining([
          `${RUN_ID} about-to-fail`,
          expect.stringMatching(/^error: .*exit code: 3/),
        ]),
      })
    })

    it("a Dockerfile error rejects with E_BUILD_FAILED and the frontend's message", async () => {
      const { err } = await failure(() =>
        driver.build({ context: tarOf({ Dockerfile: 'FROMM nothing\n' }) }),
      )
      expect(err).toMatchObject({
        code: 'E_BUILD_FAILED',
        details: [expect.stringContaining('unknown instruction')],
      })
    })

    it('aborting cancels the build (E_BUILD_CANCELLED)', async () => {
      const controller = new AbortController()
      const started = Date.now()
      const { err } = await failure(() =>
        driver.build({
          context: tarOf({ Dockerfile: `FROM ${base}\nRUN echo ${RUN_ID} && sleep 60\n` }),
          signal: controller.signal,
          onEvent: (e) =>
            e.type === 'step-started' && e.step.name.includes('sleep') && controller.abort(),
        }),
      )
      expect(err).toMatchObject({ code: 'E_BUILD_CANCELLED' })
      expect(Date.now() - started).toBeLessThan(45_000)
    })

    it("refuses a registry cache export on the engine's BuildKit before connecting", async () => {
      proxy.requests.length = 0
      const { err } = await failure(() =>
        driver.build({
          context: tarOf({ Dockerfile: 'FROM scratch\n' }),
          cacheTo: [{ type: 'registry', ref: 'localhost:5000/cache:x' }],
        }),
      )
      expect(err).toMatchObject({
        code: 'E_CONFIG_INVALID',
        message:
          'A Docker engine\'s embedded BuildKit cannot export a registry cache ("type=registry,ref=localhost:5000/cache:x")',
      })
      expect(proxy.requests).toEqual([])
    })

    it('an endpoint where nothing listens is E_ENGINE_UNAVAILABLE, quickly', async () => {
      const absent = createBuildkitClient({
        env: { BUILDKIT_HOST: `unix:///tmp/imagespec-absent-${RUN_ID}.sock` },
      })
      const { err, ms } = await failure(() =>
        absent.build({ context: tarOf({ Dockerfile: 'FROM scratch\n' }) }),
      )
      expect(err).toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        message: expect.stringContaining('Cannot reach BuildKit at "unix:///tmp/'),
      })
      expect(ms).toBeLessThan(3000)
    })
  },
)
