import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import Dockerode from 'dockerode'
import { pack } from 'tar-stream'
import { expect, onTestFinished } from 'vitest'
import type { BuildEvent } from '@imagespec/spec'
import { TEST_LABEL } from '@imagespec/test-utils'
import type { BuildOptions, BuildResult } from '../src/index.js'

/** One id per test run: put on every image the tests create. */
export const RUN_ID = randomUUID()
export const LABELS = { [TEST_LABEL]: RUN_ID }

/** A build context tar stream holding `files`. */
export function tarOf(files: Record<string, string | Buffer>): Readable {
  const p = pack()
  for (const [name, content] of Object.entries(files)) p.entry({ name }, content)
  p.finalize()
  return p as unknown as Readable // tar-stream's Pack is a streamx Readable, which Node streams accept
}

/** A plain dockerode client for checks the driver does not offer (save, history, label filters). */
export const docker = new Dockerode({ socketPath: '/var/run/docker.sock' })

/** Removes the named images (or ids) when the current test finishes. */
export function removeAfterTest(...refs: string[]): void {
  onTestFinished(async () => {
    for (const ref of refs)
      await docker
        .getImage(ref)
        .remove({ force: true })
        .catch(() => undefined)
  })
}

/** Removes every image labelled with this run's id. */
export async function removeLabelled(): Promise<void> {
  const images = await docker.listImages({ filters: { label: [`${TEST_LABEL}=${RUN_ID}`] } })
  for (const image of images)
    await docker
      .getImage(image.Id)
      .remove({ force: true })
      .catch(() => undefined)
}

/** A unique image name for this run. */
export const imageName = (what: string) => `imagespec-test/${what}:${RUN_ID.slice(0, 8)}`

/** Runs `call`, which must fail; resolves its error and how long it took. */
export async function failure(call: () => Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const started = Date.now()
  const err = await call().then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  )
  return { err, ms: Date.now() - started }
}

/** A build's secret left no trace: not in the image's history or config, nor in the build's events. */
export async function expectNoTrace(secret: string, tag: string, events: unknown[]): Promise<void> {
  expect(JSON.stringify(await docker.getImage(tag).history())).not.toContain(secret)
  expect(JSON.stringify(await docker.getImage(tag).inspect())).not.toContain(secret)
  expect(JSON.stringify(events)).not.toContain(secret)
}

/**
 * Builds `files` (a context whose Dockerfile reads the secret) as `tag`, removed after the test, with `secret` served
 * as `secret_0`, without cache and with this run's labels; the build's result and events.
 */
export async function buildWithSecret(
  driver: { build(opts: BuildOptions): Promise<BuildResult> },
  tag: string,
  secret: string,
  files: Record<string, string>,
): Promise<{ result: BuildResult; events: BuildEvent[] }> {
  removeAfterTest(tag)
  const events: BuildEvent[] = []
  const result = await driver.build({
    context: tarOf(files),
    tags: [tag],
    labels: LABELS,
    secrets: { secret_0: secret },
    nocache: true,
    onEvent: (e) => events.push(e),
  })
  return { result, events }
}
