import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  skipWithoutEngine,
  startRegistry,
  TEST_CREDENTIALS,
  type RunningRegistry,
} from '@imagespec/test-utils'
import { createDockerClient } from '../src/index.js'
import type { PushEvent } from '@imagespec/spec'
import { LABELS, removeAfterTest, removeLabelled, RUN_ID, tarOf } from './_helpers.js'

const driver = createDockerClient({ host: 'unix:///var/run/docker.sock' })
const creds = TEST_CREDENTIALS

/** The manifest digest the registry serves for `repo:tag` (HEAD with the usual Accept list). */
async function registryDigest(
  reg: RunningRegistry,
  repo: string,
  tag: string,
): Promise<string | null> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      Accept:
        'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
      Authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`,
    },
  })
  return res.ok ? res.headers.get('docker-content-digest') : null
}

/** Builds a tiny FROM-scratch image named `ref`. */
async function buildTiny(ref: string, content = RUN_ID): Promise<string> {
  removeAfterTest(ref)
  const { imageId } = await driver.build({
    context: tarOf({ Dockerfile: 'FROM scratch\nCOPY f.txt /f.txt\n', 'f.txt': content }),
    tags: [ref],
    labels: LABELS,
  })
  return imageId
}

describe.skipIf(await skipWithoutEngine())(
  'DockerDriver with registries (real engine and docker-registry)',
  () => {
    let plain: RunningRegistry
    let secured: RunningRegistry
    beforeAll(async () => {
      ;[plain, secured] = await Promise.all([startRegistry(), startRegistry({ basic: true })])
    })
    afterAll(async () => {
      await removeLabelled()
      await Promise.all([plain?.stop(), secured?.stop()])
    })

    it('pushes to a plain registry and returns the digest the registry stores', async () => {
      const ref = `${plain.host}/imagespec/tiny:plain`
      await buildTiny(ref)
      const events: PushEvent[] = []
      const pushed = await driver.push(ref, { onEvent: (e) => events.push(e) })
      expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(await registryDigest(plain, 'imagespec/tiny', 'plain')).toBe(pushed.digest)
      expect(events.at(-1)).toEqual({
        type: 'pushed',
        ref,
        digest: pushed.digest,
        size: pushed.size,
      })
      expect(events.some((e) => e.type === 'push-progress')).toBe(true)
    })

    it('pushes to an htpasswd registry with credentials, and fails with E_PUSH_FAILED without or with wrong ones', async () => {
      const ref = `${secured.host}/imagespec/tiny:auth`
      await buildTiny(ref)
      await expect(driver.push(ref)).rejects.toMatchObject({
        code: 'E_PUSH_FAILED',
        message: `Push of "${ref}" failed: no basic auth credentials`,
      })
      await expect(
        driver.push(ref, { auth: { [secured.host]: { ...creds, password: 'wrong' } } }),
      ).rejects.toMatchObject({
        code: 'E_PUSH_FAILED',
        message: expect.stringMatching(new RegExp(`^Push of "${ref}" failed: unauthorized`)),
      })
      const pushed = await driver.push(ref, {
        auth: (host) => (host === secured.host ? creds : undefined),
      })
      expect(await registryDigest(secured, 'imagespec/tiny', 'auth')).toBe(pushed.digest)
    })

    it('fails with E_PUSH_FAILED when the image is not in the local store', async () => {
      const ref = `${plain.host}/imagespec/absent:${RUN_ID}`
      await expect(driver.push(ref)).rejects.toMatchObject({
        code: 'E_PUSH_FAILED',
        message: expect.stringMatching(
          new RegExp(`^Push of "${ref}" failed: An image does not exist locally`),
        ),
      })
    })

    it('pulls a FROM image from an htpasswd registry with the session auth service, and fails clearly without', async () => {
      const baseRef = `${secured.host}/imagespec/from-base:1`
      await buildTiny(baseRef, `base ${RUN_ID}`)
      await driver.push(baseRef, { auth: { [secured.host]: creds } })
      expect(await driver.removeImage(baseRef)).toBe(true)
      expect(await driver.imageExists(baseRef)).toBe(false)

      const context = () =>
        tarOf({ Dockerfile: `FROM ${baseRef}\nCOPY g.txt /g.txt\n`, 'g.txt': 'child' })
      const anonymous = driver.build({ context: context(), labels: LABELS })
      await expect(anonymous).rejects.toMatchObject({
        code: 'E_BUILD_FAILED',
        message: `Build failed at step "[internal] load metadata for ${baseRef}"`,
        details: [expect.stringMatching(/401 Unauthorized/)],
      })

      const tag = `imagespec-test/from-auth:${RUN_ID.slice(0, 8)}`
      removeAfterTest(tag, baseRef)
      const result = await driver.build({
        context: context(),
        tags: [tag],
        labels: LABELS,
        auth: { [secured.host]: creds },
      })
      expect(await driver.inspectImage(tag)).toMatchObject({ id: result.imageId })
    })
  },
)
