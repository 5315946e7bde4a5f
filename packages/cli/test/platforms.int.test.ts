// Multi-platform images on real engines: a two-platform build through the CLI (arm64 under QEMU emulation), children
// pushed by digest under one index, a tag whose index lost a platform, and a fleet with a second dockerd as the arm64
// member that fails over to the first engine once it is stopped. Needs the two-platform base in the loopback registry
// (tools/scripts/ensure-multiarch-base.sh, run by services.sh) and root (the second engine).
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  copyImage,
  ensureMultiPlatformBase,
  skipWithoutEngine,
  startPackageIndex,
  startRegistry,
  startSecondEngine,
  TEST_LABEL,
  type RunningIndex,
  type RunningRegistry,
  type SecondEngine,
} from '@imagespec/test-utils'
import { runCli } from './_cli.js'

const DOCKER = '/usr/bin/docker'
const FLYTEKIT_VERSION = '1.16.24'
const RUN_ID = randomUUID()
const LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
const FIRST = 'unix:///var/run/docker.sock'
// Bounds: every CLI run is killed after BUILD_MS (a hung engine fails the test instead of stalling the suite); each test
// has its own timeout. Measured at a load average of about 38 on 2 cores: 196 s, 79 s and 269 s (the fleet test).
const BUILD_MS = 8 * 60_000
const docker = (...args: string[]) =>
  execFileSync(DOCKER, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'pipe'],
  })

interface Summary {
  image: string
  status: 'built' | 'skipped'
  digest: string | null
  platforms: Record<string, { status: 'built' | 'present'; engine: string }>
}
interface IndexDoc {
  mediaType: string
  manifests: {
    mediaType: string
    digest: string
    size: number
    platform: { os: string; architecture: string }
  }[]
}

describe.skipIf(await skipWithoutEngine())('multi-platform builds on real engines', () => {
  let registry: RunningRegistry
  let index: RunningIndex
  let base: string
  let work: string

  beforeAll(async () => {
    base = await ensureMultiPlatformBase() // the arm64 rootfs is built once per machine (minutes), never per test
    registry = await startRegistry()
    index = await startPackageIndex([
      {
        name: 'flytekit',
        version: FLYTEKIT_VERSION,
        files: { 'flytekit/__init__.py': `__version__ = "${FLYTEKIT_VERSION}"\n` },
      },
    ])
    work = mkdtempSync(join(tmpdir(), 'imagespec-mp-'))
    mkdirSync(join(work, 'tmp'))
  }, 12 * 60_000)

  afterAll(async () => {
    const ids = docker('image', 'ls', '-q', '--filter', `label=${TEST_LABEL}=${RUN_ID}`)
      .split('\n')
      .filter(Boolean)
    if (ids.length)
      execFileSync(DOCKER, ['image', 'rm', '-f', ...new Set(ids)], { stdio: 'ignore' })
    await registry?.stop()
    await index?.stop()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  /** A minimal two-platform spec (pip installer, the stub flytekit from the local index): an emulated build is slow. */
  function project(name: string, baseImage = base): string {
    const dir = join(work, name)
    mkdirSync(dir)
    const spec = join(dir, 'imagespec.yaml')
    writeFileSync(
      spec,
      [
        `name: ${name}`,
        `registry: ${registry.host}`,
        `base_image: ${baseImage}`,
        'python_version: "3.11"',
        'platform: linux/amd64,linux/arm64',
        `pip_index: ${index.url}`,
        'pip_extra_args: --trusted-host 127.0.0.1',
        'builder_options: {installer: pip}',
      ].join('\n') + '\n',
    )
    return spec
  }
  const env = (extra: Record<string, string> = {}) => ({
    IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
    IMAGESPEC_BUILD_NETWORK: 'host',
    IMAGESPEC_FLYTEKIT_VERSION: FLYTEKIT_VERSION,
    TMPDIR: join(work, 'tmp'),
    ...extra,
  })
  const build = async (spec: string, extra: Record<string, string> = {}, ...args: string[]) => {
    const res = await runCli(
      [
        'build',
        spec,
        '--json',
        '--progress',
        'plain',
        '--label',
        `${TEST_LABEL}=${RUN_ID}`,
        ...args,
      ],
      { env: env(extra), timeoutMs: BUILD_MS },
    )
    expect(res.code, res.stderr).toBe(0)
    const lines = res.stdout.trimEnd().split('\n')
    return { ...res, summary: JSON.parse(lines.at(-1)!) as Summary }
  }
  const repoOf = (image: string) => image.slice(registry.host.length + 1, image.lastIndexOf(':'))
  const tagOf = (image: string) => image.slice(image.lastIndexOf(':') + 1)
  const tags = async (image: string) =>
    (
      (await (await fetch(`${registry.url}/v2/${repoOf(image)}/tags/list`)).json()) as {
        tags: string[]
      }
    ).tags
  const readIndex = async (image: string): Promise<IndexDoc> =>
    (
      await fetch(`${registry.url}/v2/${repoOf(image)}/manifests/${tagOf(image)}`, {
        headers: { accept: LIST },
      })
    ).json() as Promise<IndexDoc>
  const indexDigest = async (image: string) =>
    (
      await fetch(`${registry.url}/v2/${repoOf(image)}/manifests/${tagOf(image)}`, {
        method: 'HEAD',
        headers: { accept: LIST },
      })
    ).headers.get('docker-content-digest')
  /** The layer digests of every child of an index in the test registry. */
  const layersOf = async (image: string): Promise<string[]> => {
    const api = `${registry.url}/v2/${repoOf(image)}/manifests`
    const children = (await readIndex(image)).manifests
    const docs = await Promise.all(
      children.map(
        async (c) =>
          (await (
            await fetch(`${api}/${c.digest}`, { headers: { accept: c.mediaType } })
          ).json()) as { layers: { digest: string }[] },
      ),
    )
    return docs.flatMap((d) => d.layers.map((l) => l.digest))
  }
  const machine = (image: string, digest: string, platform: string) =>
    docker(
      'run',
      '--rm',
      '--platform',
      platform,
      '--network',
      'none',
      '--label',
      `${TEST_LABEL}=${RUN_ID}`,
      `${image.slice(0, image.lastIndexOf(':'))}@${digest}`,
      'python3',
      '-c',
      'import platform, flytekit; print(platform.machine(), flytekit.__version__)',
    ).trim()

  it(
    'builds both platforms, publishes one index without stray tags, and its children run as x86_64 and aarch64',
    async () => {
      // The base in the same registry (as a team's own base image would be): its layers are mounted, not uploaded.
      const sameRegistryBase = await copyImage(base, `${registry.host}/imagespec/python-base:3.11`)
      const spec = project('mp-one', sameRegistryBase)
      const first = await build(spec)
      const { summary } = first
      expect(summary).toMatchObject({
        status: 'built',
        platforms: {
          'linux/amd64': { status: 'built', engine: FIRST },
          'linux/arm64': { status: 'built', engine: FIRST },
        },
      })
      expect(Object.keys(summary.platforms)).toEqual(['linux/amd64', 'linux/arm64'])
      expect(first.stderr).toMatch(
        /linux\/arm64: building on unix:\/\/\/var\/run\/docker\.sock \(emulated\)/,
      )
      expect(first.stderr).toMatch(/\[linux\/arm64\] #\d+ \[/) // build progress carries the platform

      expect(await tags(summary.image)).toEqual([tagOf(summary.image)]) // children pushed by digest: no other tag
      const doc = await readIndex(summary.image)
      expect(doc.mediaType).toBe(LIST)
      expect(doc.manifests.map((m) => m.platform.architecture)).toEqual(['amd64', 'arm64'])
      expect(first.stderr).toContain(`linux/amd64: built ${doc.manifests[0]!.digest}`)
      expect(first.stderr).toContain(`linux/arm64: built ${doc.manifests[1]!.digest}`)
      expect(machine(summary.image, doc.manifests[0]!.digest, 'linux/amd64')).toBe(
        `x86_64 ${FLYTEKIT_VERSION}`,
      )
      expect(machine(summary.image, doc.manifests[1]!.digest, 'linux/arm64')).toBe(
        `aarch64 ${FLYTEKIT_VERSION}`,
      )
      // Every layer of both bases was mounted from imagespec/python-base (201 in the registry's access log), none
      // was uploaded to the image's repository.
      const baseLayers = await layersOf(sameRegistryBase)
      expect(baseLayers.length).toBeGreaterThanOrEqual(2)
      const log = registry.logs().split('\n')
      const uploadsPath = `/v2/${repoOf(summary.image)}/blobs/uploads/`
      for (const layer of baseLayers) {
        const d = encodeURIComponent(layer)
        expect(log).toContainEqual(
          expect.stringContaining(
            `"POST ${uploadsPath}?mount=${d}&from=imagespec%2Fpython-base HTTP/1.1" 201`,
          ),
        )
        expect(log.filter((l) => l.includes(`"PUT ${uploadsPath}`) && l.includes(d))).toEqual([])
      }

      const again = await build(spec)
      expect(again.stdout).toContain(`Image ${summary.image} found. Skip building.`)
      // The summary's one shape: nothing pushed, so no digest; `engine` falls back to DOCKER_HOST's engine.
      expect(again.summary).toEqual({
        image: summary.image,
        status: 'skipped',
        digest: null,
        platforms: {
          'linux/amd64': { status: 'present', engine: FIRST },
          'linux/arm64': { status: 'present', engine: FIRST },
        },
      })
      expect(summary.digest).toBe(await indexDigest(summary.image))
    },
    10 * 60_000,
  )

  it(
    'rebuilds exactly the platform the index lost, leaving the other child unchanged',
    async () => {
      const spec = project('mp-lost')
      const { summary } = await build(spec)
      const amd = (await readIndex(summary.image)).manifests.find(
        (m) => m.platform.architecture === 'amd64',
      )!
      const put = await fetch(
        `${registry.url}/v2/${repoOf(summary.image)}/manifests/${tagOf(summary.image)}`,
        {
          method: 'PUT',
          headers: { 'content-type': LIST },
          body: JSON.stringify({ schemaVersion: 2, mediaType: LIST, manifests: [amd] }),
        },
      )
      expect(put.status).toBe(201)

      const dry = await runCli(['build', spec, '--dry-run'], { env: env(), timeoutMs: 2 * 60_000 })
      expect(dry.stdout).toMatch(
        /linux\/amd64: present\n\s+linux\/arm64: build on unix:\/\/\/var\/run\/docker\.sock \(emulated\)/,
      )

      const next = await build(spec)
      expect(next.stderr).toContain('linux/amd64: present')
      expect(next.stderr).toContain('linux/arm64: building on')
      expect(next.stderr).not.toContain('linux/amd64: building')
      expect(next.summary.platforms).toEqual({
        'linux/amd64': { status: 'present', engine: FIRST },
        'linux/arm64': { status: 'built', engine: FIRST },
      })
      const doc = await readIndex(summary.image)
      expect(doc.manifests.map((m) => m.platform.architecture)).toEqual(['amd64', 'arm64'])
      expect(doc.manifests[0]).toEqual(amd)
    },
    10 * 60_000,
  )

  describe('a fleet with a second dockerd as the arm64 member', () => {
    let second: SecondEngine | undefined
    let fleet: string
    afterAll(async () => second?.stop())

    it(
      'builds the arm64 child on the second engine, and fails over to the first once it is stopped',
      async () => {
        second = await startSecondEngine()
        fleet = join(work, 'fleet.yaml')
        writeFileSync(
          fleet,
          `engines:\n  - host: ${FIRST}\n    platforms: [linux/amd64]\n  - host: ${second.host}\n    platforms: [linux/arm64]\n    max_builds: 2\n`,
        )
        const one = await build(project('mp-fleet'), { IMAGESPEC_ENGINES: fleet })
        expect(one.summary.platforms).toMatchObject({
          'linux/amd64': { status: 'built', engine: FIRST },
          'linux/arm64': { status: 'built', engine: second.host },
        })
        expect(one.stderr).toContain(`linux/arm64: building on ${second.host}\n`) // native there: no emulation note
        const doc = await readIndex(one.summary.image)
        expect(machine(one.summary.image, doc.manifests[1]!.digest, 'linux/arm64')).toBe(
          `aarch64 ${FLYTEKIT_VERSION}`,
        )

        await second.stop()
        const two = await build(project('mp-fleet-2'), {}, '--engines', fleet)
        expect(two.stderr).toContain(`Engine ${second.host} is unavailable and is skipped`)
        expect(two.summary.platforms).toMatchObject({
          'linux/amd64': { status: 'built', engine: FIRST },
          'linux/arm64': { status: 'built', engine: FIRST },
        })
      },
      12 * 60_000,
    )
  })
})
