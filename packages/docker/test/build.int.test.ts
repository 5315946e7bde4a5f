import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { PassThrough, type Readable } from 'node:stream'
import { extract } from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { ImagespecError, type BuildEvent } from '@imagespec/spec'
import { ensureBaseImage, skipWithoutEngine } from '@imagespec/test-utils'
import { createDockerClient } from '../src/index.js'
import {
  buildWithSecret,
  docker,
  expectNoTrace,
  imageName,
  LABELS,
  removeAfterTest,
  removeLabelled,
  RUN_ID,
  tarOf,
} from './_helpers.js'

const driver = createDockerClient({ host: 'unix:///var/run/docker.sock' })
let base: string

/** Every file of a `docker save` tar (manifest, config, each layer.tar), by name. */
async function saveImage(ref: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  const ex = extract()
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = []
    stream.on('data', (c: unknown) => void chunks.push(c as Buffer))
    stream.on('end', () => {
      files.set(header.name, Buffer.concat(chunks))
      next()
    })
  })
  const saved = (await docker.getImage(ref).get()) as Readable
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', () => resolve())
    ex.on('error', reject)
    saved.pipe(ex)
  })
  return files
}

describe.skipIf(await skipWithoutEngine())('DockerDriver.build (real engine)', () => {
  beforeAll(async () => {
    base = await ensureBaseImage()
  })
  afterAll(removeLabelled)

  it('builds FROM scratch with a COPY and names the image', async () => {
    const tag = imageName('scratch')
    removeAfterTest(tag)
    const events: BuildEvent[] = []
    const result = await driver.build({
      context: tarOf({
        Dockerfile: 'FROM scratch\nCOPY hello.txt /hello.txt\n',
        'hello.txt': 'hello\n',
      }),
      tags: [tag],
      labels: LABELS,
      onEvent: (e) => events.push(e),
    })
    expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
    const info = await driver.inspectImage(tag)
    expect(info).toMatchObject({ id: result.imageId, repoTags: [tag], labels: LABELS })
    expect(events.at(-1)).toEqual({ type: 'result', ...result })
    expect(events.map((e) => e.type)).toContain('step-completed')
  })

  it('serves a secret to RUN --mount=type=secret and leaves no trace of it in the image', async () => {
    const tag = imageName('secret')
    const secret = `imagespec-secret-${RUN_ID}`
    const { events } = await buildWithSecret(driver, tag, secret, {
      Dockerfile:
        `FROM ${base}\n` +
        // RUN_ID keeps the step unique: BuildKit shares identical steps of concurrent builds (secrets are not
        // part of a step's identity), so another run's build could otherwise answer for this one
        `RUN --mount=type=secret,id=secret_0,target=/run/secrets/x,required=true echo ${RUN_ID} && ` +
        'sha256sum /run/secrets/x | cut -d" " -f1 > /secret.sha256 && cat /run/secrets/x\n',
    })
    const expectedSum = createHash('sha256').update(secret).digest('hex')
    const files = await saveImage(tag)
    const everything = Buffer.concat([...files.values()])
    expect(everything.includes(expectedSum)).toBe(true) // the RUN step did read the secret
    for (const [name, content] of files) expect(content.includes(secret), name).toBe(false)
    expect([...files.keys()].some((n) => n.endsWith('layer.tar'))).toBe(true)
    await expectNoTrace(secret, tag, events)
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', line: '***' }))
  })

  it('keeps the session alive for a secret needed late in the build (answers BuildKit health checks)', async () => {
    const run = driver.build({
      context: tarOf({
        Dockerfile: `FROM ${base}\nRUN sleep 6 # ${RUN_ID}\nRUN --mount=type=secret,id=late,required=true test -s /run/secrets/late\n`,
      }),
      labels: LABELS,
      secrets: { late: 'late-secret' },
    })
    await expect(run).resolves.toMatchObject({ imageId: expect.stringMatching(/^sha256:/) })
  })

  it('fails with E_BUILD_FAILED naming the step and carrying its log tail when a secret id is unknown', async () => {
    const run = driver.build({
      context: tarOf({
        Dockerfile: `FROM ${base}\nRUN --mount=type=secret,id=nope,required=true true\n`,
      }),
      labels: LABELS,
      secrets: { secret_0: 'x' },
    })
    await expect(run).rejects.toMatchObject({
      code: 'E_BUILD_FAILED',
      message: expect.stringMatching(/^Build failed at step "\[2\/2\] RUN/),
    })
  })

  it('rejects a failing RUN with E_BUILD_FAILED, the step name and the tail of its log', async () => {
    const run = driver.build({
      context: tarOf({
        // stdout and stderr are separate pipes: the sleep keeps "boom" after the other lines
        Dockerfile: `FROM ${base}\nRUN echo ${RUN_ID}; for i in $(seq 1 30); do echo "line $i"; done; sleep 0.3; echo boom >&2; exit 7\n`,
      }),
      labels: LABELS,
    })
    const err = await run.catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'E_BUILD_FAILED' })
    const { message, details } = err as { message: string; details: string[] }
    const step = `[2/2] RUN echo ${RUN_ID}; for i in $(seq 1 30); do echo "line $i"; done; sleep 0.3; echo boom >&2; exit 7`
    expect(message).toBe(`Build failed at step "${step}"`)
    expect(details).toContain('boom')
    expect(details).toContain('line 30')
    expect(details).not.toContain('line 1')
    expect(details.at(-1)).toMatch(/^error: .*exit code: 7$/)
  })

  it('reports the steps before a changed COPY as cached on a rebuild', async () => {
    const tag = imageName('rebuild')
    removeAfterTest(tag)
    const dockerfile = `FROM ${base}\nRUN echo deps ${RUN_ID} > /deps\nCOPY app.py /app/app.py\nRUN python3 /app/app.py\n`
    const build = async (source: string) => {
      const events: BuildEvent[] = []
      const result = await driver.build({
        context: tarOf({ Dockerfile: dockerfile, 'app.py': source }),
        tags: [tag],
        labels: LABELS,
        onEvent: (e) => events.push(e),
      })
      return { result, events }
    }
    const cold = await build('print("one")\n')
    const warm = await build('print("two")\n')
    const cachedNames = (events: BuildEvent[]) =>
      events.flatMap((e) => (e.type === 'step-cached' ? [e.step.name] : []))
    expect(cachedNames(cold.events)).not.toContain(`[2/4] RUN echo deps ${RUN_ID} > /deps`)
    expect(cachedNames(warm.events)).toContain(`[2/4] RUN echo deps ${RUN_ID} > /deps`)
    expect(cachedNames(warm.events)).not.toContain('[3/4] COPY app.py /app/app.py')
    expect(warm.events).toContainEqual(expect.objectContaining({ type: 'log', line: 'two' }))
    expect(warm.result.imageId).not.toBe(cold.result.imageId)
  })

  it('cancels a running build on abort: rejects quickly and the engine stops the step', async () => {
    const marker = `37.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`
    const controller = new AbortController()
    let abortedAt = 0
    const run = driver.build({
      context: tarOf({ Dockerfile: `FROM ${base}\nRUN echo started && sleep ${marker}\n` }),
      labels: LABELS,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'log' && e.line === 'started' && !abortedAt) {
          abortedAt = Date.now()
          controller.abort()
        }
      },
    })
    await expect(run).rejects.toMatchObject({
      code: 'E_BUILD_CANCELLED',
      message: 'Build cancelled',
    })
    expect(abortedAt).toBeGreaterThan(0)
    expect(Date.now() - abortedAt).toBeLessThan(2000)
    const sleeping = () => {
      try {
        return execFileSync('pgrep', ['-f', `sleep ${marker.replace('.', '\\.')}$`], {
          encoding: 'utf8',
        }).trim()
      } catch {
        return '' // pgrep exits 1 when nothing matches
      }
    }
    const deadline = Date.now() + 10_000
    while (sleeping() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    expect(sleeping()).toBe('')
  })

  it('rejects at once with E_BUILD_CANCELLED when the signal is already aborted', async () => {
    await expect(
      driver.build({
        context: tarOf({ Dockerfile: 'FROM scratch\n' }),
        signal: AbortSignal.abort(),
      }),
    ).rejects.toMatchObject({ code: 'E_BUILD_CANCELLED' })
  })
})

describe.skipIf(await skipWithoutEngine())('DockerDriver.build options (real engine)', () => {
  beforeAll(async () => {
    base = await ensureBaseImage()
  })
  afterAll(removeLabelled)

  it('passes build args, target and platform, and runs RUN steps on the host network', async () => {
    const server = createServer((_req, res) => res.end('from-the-host'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { port } = server.address() as AddressInfo
    const tag = imageName('options')
    removeAfterTest(tag)
    const events: BuildEvent[] = []
    const result = await driver.build({
      context: tarOf({
        Dockerfile:
          `FROM ${base} AS wanted\nARG GREETING\nRUN echo "greeting=$GREETING ${RUN_ID}"\n` +
          `RUN python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:${port}/').read().decode())"\n` +
          'FROM wanted AS unwanted\nRUN exit 1\n',
      }),
      tags: [tag],
      labels: LABELS,
      buildArgs: { GREETING: 'hi' },
      target: 'wanted',
      platform: 'linux/amd64',
      network: 'host',
      onEvent: (e) => events.push(e),
    })
    const lines = events.flatMap((e) => (e.type === 'log' ? [e.line] : []))
    expect(lines).toContain(`greeting=hi ${RUN_ID}`)
    expect(lines).toContain('from-the-host')
    expect(await driver.inspectImage(tag)).toMatchObject({
      id: result.imageId,
      os: 'linux',
      architecture: 'amd64',
    })
  })

  it('refuses a build arg that carries a secret value', async () => {
    const run = driver.build({
      context: tarOf({ Dockerfile: 'FROM scratch\n' }),
      buildArgs: { TOKEN: 'prefix-hunter2-suffix' },
      secrets: { secret_0: 'hunter2' },
    })
    await expect(run).rejects.toMatchObject({
      code: 'E_SPEC_INVALID',
      message: 'The buildArgs entry "TOKEN" contains a secret value',
    })
  })

  it('reports a context stream that fails as E_CONTEXT', async () => {
    const context = new PassThrough()
    context.write(Buffer.alloc(512))
    setTimeout(() => context.destroy(new ImagespecError('E_CONTEXT', 'File "x" vanished')), 50)
    await expect(driver.build({ context })).rejects.toMatchObject({
      code: 'E_CONTEXT',
      message: 'File "x" vanished',
    })
  })
})
