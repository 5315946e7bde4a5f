import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  engineAvailable,
  skipWithoutEngine,
  startRegistry,
  TEST_LABEL,
  type RunningRegistry,
} from '../src/index.js'

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
].join(', ')

// The CI smoke test: the engine answers, and an image built FROM scratch can be pushed to a loopback registry and
// found there with a manifest HEAD.
describe.skipIf(await skipWithoutEngine())('engine and registry smoke test', () => {
  let started: RunningRegistry | undefined
  afterAll(async () => started?.stop())

  it('pings the engine, pushes a FROM scratch image and HEADs its manifest', async () => {
    expect(await engineAvailable()).toBe(true)
    const host = process.env.IMAGESPEC_CI_REGISTRY ?? (started = await startRegistry()).host
    const ctx = mkdtempSync(join(tmpdir(), 'imagespec-smoke-'))
    writeFileSync(join(ctx, 'hello.txt'), `hello ${Date.now()}\n`)
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n')
    const ref = `${host}/imagespec/smoke:t${process.pid}`
    const docker = (...args: string[]) =>
      execFileSync('/usr/bin/docker', args, {
        env: { ...process.env, DOCKER_BUILDKIT: '1' },
        encoding: 'utf8',
      })
    try {
      docker('build', '-q', '--label', `${TEST_LABEL}=smoke`, '-t', ref, ctx)
      docker('push', ref)
      const res = await fetch(`http://${host}/v2/imagespec/smoke/manifests/t${process.pid}`, {
        method: 'HEAD',
        headers: { accept: ACCEPT },
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('docker-content-digest')).toMatch(/^sha256:[0-9a-f]{64}$/)
      const absent = await fetch(`http://${host}/v2/imagespec/smoke/manifests/absent`, {
        method: 'HEAD',
        headers: { accept: ACCEPT },
      })
      expect(absent.status).toBe(404)
    } finally {
      docker('rmi', '-f', ref)
      rmSync(ctx, { recursive: true, force: true })
    }
  })
})
