// A fleet whose entries are BuildKit endpoints, on real engines: the CI engine's BuildKit and a second dockerd's, both
// as `dockerd+unix://` entries through logging proxies. Each spec goes to the engine its image name hashes highest
// with (sticky whatever the file order), builds there through BuildKit's control API (`/grpc`, never `/build`), and a
// down engine's specs move to the live one. Needs root (the second engine).
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  docker,
  FLYTEKIT_VERSION,
  skipWithoutEngine,
  startEngineProxy,
  startSecondEngine,
  TEST_LABEL,
  useBuildEnv,
  type EngineProxy,
  type SecondEngine,
} from '@imagespec/test-utils'
import { runCli } from './_cli.js'

// Bounds: every CLI run is killed after BUILD_MS; the second engine pulls the base (one 75 MB layer) on its first build.
const BUILD_MS = 6 * 60_000

describe.skipIf(await skipWithoutEngine())(
  'a fleet of BuildKit endpoints (dockerd+unix://)',
  () => {
    const e = useBuildEnv({
      prefix: 'imagespec-bkfleet-',
      wheels: [
        {
          name: 'imagespec-fleet-dep',
          version: '1.0.0',
          files: { 'fleet_dep/__init__.py': 'OK = "fleet"\n' },
        },
      ],
    })
    let second: SecondEngine | undefined
    const proxies: EngineProxy[] = []
    let A = ''
    let B = ''
    const files = { forward: '', reverse: '' }

    beforeAll(async () => {
      second = await startSecondEngine()
      const first = await startEngineProxy()
      const other = await startEngineProxy({ target: second.host.slice('unix://'.length) })
      proxies.push(first, other)
      A = `dockerd+unix://${first.socketPath}`
      B = `dockerd+unix://${other.socketPath}`
      files.forward = join(e.work, 'forward.yaml')
      files.reverse = join(e.work, 'reverse.yaml')
      // `dockerd+` says BuildKit: no `buildkit: true` needed; no platforms: each engine's own, from ListWorkers
      writeFileSync(files.forward, `engines:\n  - host: ${A}\n  - host: ${B}\n`)
      writeFileSync(files.reverse, `engines:\n  - {host: ${B}, buildkit: true}\n  - {host: ${A}}\n`)
    }, 2 * 60_000)
    afterAll(async () => {
      for (const p of proxies) await p.stop()
      await second?.stop()
    })

    const env = (extra: Record<string, string> = {}) => ({
      IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
      IMAGESPEC_BUILD_NETWORK: 'host',
      IMAGESPEC_FLYTEKIT_VERSION: FLYTEKIT_VERSION,
      TMPDIR: join(e.work, 'tmp'),
      ...extra,
    })
    function project(name: string): string {
      const dir = join(e.work, name)
      mkdirSync(join(dir, 'src/app'), { recursive: true })
      writeFileSync(join(dir, 'src/app/__init__.py'), `NAME = "${name}"\n`)
      const spec = join(dir, 'imagespec.yaml')
      writeFileSync(
        spec,
        [
          `name: ${name}`,
          `registry: ${e.registry.host}`,
          `base_image: ${e.base}`,
          'python_version: "3.11"',
          'packages: [imagespec-fleet-dep]',
          `pip_index: ${e.index.url}`,
          'pip_extra_args: --trusted-host 127.0.0.1',
          'source_root: src',
          'source_copy_mode: all',
          'builder_options: {installer: pip}',
        ].join('\n') + '\n',
      )
      return spec
    }
    const imageName = async (spec: string) =>
      (
        JSON.parse((await runCli(['-C', dirname(spec), 'name', '--json', spec])).stdout) as {
          image_name: string
        }
      ).image_name
    /** The documented rule: the engine whose address hashes highest with the image name and the platform. */
    const sticky = (image: string) =>
      [A, B].reduce((best, a) => (weight(image, a) > weight(image, best) ? a : best))
    const weight = (image: string, address: string) =>
      createHash('sha256').update(`${image}\nlinux/amd64\n${address}`).digest('hex')
    const dryRun = (spec: string, fleet: string, ...args: string[]) =>
      runCli(['build', spec, '--dry-run', '--engines', fleet, ...args], {
        env: env(),
        cwd: dirname(spec),
        timeoutMs: 2 * 60_000,
      })

    /** One spec the hash sends to A and one it sends to B (a few names suffice: each is a coin toss). */
    const specs: { spec: string; image: string; engine: string }[] = []
    async function specPerEngine() {
      for (let i = 0; specs.length < 2 && i < 30; i++) {
        const spec = project(`bkf-${i}`)
        const image = await imageName(spec)
        const engine = sticky(image)
        if (!specs.some((s) => s.engine === engine)) specs.push({ spec, image, engine })
      }
      expect(specs.map((s) => s.engine).sort()).toEqual([A, B].sort())
    }

    it(
      'plans each spec on its sticky engine in either file order, builds it there through /grpc (never /build), and the images run',
      async () => {
        await specPerEngine()
        for (const { spec, engine } of specs)
          for (const fleet of [files.forward, files.reverse]) {
            const dry = await dryRun(spec, fleet)
            expect(dry.code, dry.stderr).toBe(0)
            expect(dry.stdout).toContain(`linux/amd64: build on ${engine}\n`)
          }
        for (const p of proxies) p.requests.length = 0
        for (const { spec, image, engine } of specs) {
          const res = await runCli(
            [
              'build',
              spec,
              '--json',
              '--progress',
              'plain',
              '--label',
              `${TEST_LABEL}=${e.runId}`,
              '--engines',
              files.forward,
            ],
            { env: env(), cwd: dirname(spec), timeoutMs: BUILD_MS },
          )
          expect(res.code, res.stderr).toBe(0)
          expect(res.stderr).toContain(`pushed ${image}`)
          const summary = JSON.parse(res.stdout.trimEnd().split('\n').at(-1)!) as {
            platforms: Record<string, { engine: string }>
          }
          expect(summary.platforms['linux/amd64']!.engine).toBe(engine)
        }
        for (const p of proxies) {
          expect(p.requests).toContain('POST /grpc')
          expect(p.requests.filter((r) => /^POST \/(build|session)\b/.test(r))).toEqual([])
          expect(p.requests.some((r) => r.startsWith('POST /images/') && r.endsWith('/push'))).toBe(
            true,
          )
        }
        for (const { image } of specs) {
          try {
            docker('image', 'rm', image) // the CI engine built one of them: run both from the registry
          } catch {
            // built on the second engine: not in this one's store
          }
          docker('pull', image)
          const out = docker(
            'run',
            '--rm',
            '--label',
            `${TEST_LABEL}=${e.runId}`,
            image,
            'python',
            '-c',
            'import app, fleet_dep; print(app.NAME, fleet_dep.OK)',
          ).trim()
          expect(out).toBe(`${image.split('/')[1]!.split(':')[0]} fleet`)
        }
      },
      15 * 60_000,
    )

    it(
      "moves only a down engine's specs: with the second engine stopped, its spec plans on the first",
      async () => {
        if (specs.length < 2) await specPerEngine()
        await second!.stop()
        for (const { spec, engine } of specs) {
          const dry = await dryRun(spec, files.forward, '--force') // built and pushed by the first test
          expect(dry.code, dry.stderr).toBe(0)
          expect(dry.stdout, engine).toContain(`linux/amd64: build on ${A}\n`)
        }
      },
      5 * 60_000,
    )
  },
)
