// examples/hello built and pushed with buildah (daemonless) to a loopback registry started here, then pulled and run on
// the Docker engine. The base image is pushed to that registry first: buildah pulls FROM images from a registry,
// never from the engine's store. A pip secret mount (an extra index reachable only through it) must reach the build
// and leave no trace in the pushed image.
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine } from '@imagespec/builder'
import { EXPLAIN_LABEL, loadSpec, parseExplainLabel, type BuilderEvent } from '@imagespec/spec'
import { docker, skipWithoutEngine, TEST_LABEL, useBuildEnv } from '@imagespec/test-utils'
import buildah from '../src/index.js'

const HELLO = join(dirname(fileURLToPath(import.meta.url)), '../../../examples/hello')
// buildah's image store is kept between runs (in the XDG cache dir, not in the run's own temporary directory, which
// must be left empty): the base layers are then pulled once.
const STORAGE_DIR = join(
  process.env.XDG_CACHE_HOME || join(homedir(), '.cache'),
  'imagespec-buildah-test',
)
const storage = { root: join(STORAGE_DIR, 'root'), runroot: join(STORAGE_DIR, 'run') }
// buildah keeps the cache mounts' content in $TMPDIR/buildah-cache: kept with the store, too.
const BUILDAH_TMPDIR = join(STORAGE_DIR, 'tmp')

describe.skipIf(await skipWithoutEngine())('buildah builder, end to end', () => {
  const pulled: string[] = []

  beforeAll(() => {
    try {
      execFileSync('buildah', ['--version'], { stdio: 'ignore' })
    } catch {
      throw new Error(
        'buildah is not installed (tools/scripts/services.sh installs it: apt-get install buildah)',
      )
    }
  })
  const e = useBuildEnv({
    prefix: 'imagespec-buildah-int-',
    wheels: [
      {
        name: 'imagespec-hello-dep',
        version: '0.1.0',
        files: { 'hello_dep/__init__.py': 'GREETING = "Hello from buildah"\n' },
      },
    ],
    secretIndex: true,
  })
  const RUN_ID = e.runId
  beforeAll(() => {
    const remoteBase = `${e.registry.host}/imagespec/python-base:3.11`
    docker('tag', e.base, remoteBase)
    docker('push', remoteBase)
    docker('image', 'rm', remoteBase)
  })

  afterAll(() => {
    for (const ref of pulled) {
      execFileSync('/usr/bin/docker', ['image', 'rm', '-f', ref], { stdio: 'ignore' })
      const store = [
        '--storage-driver',
        'vfs',
        '--root',
        storage.root,
        '--runroot',
        storage.runroot,
      ]
      // The base stays: its layers are what the next run reuses.
      try {
        execFileSync('buildah', [...store, 'rmi', '--force', ref], { stdio: 'ignore' })
      } catch {
        // already gone
      }
    }
  })

  it('builds and pushes examples/hello with buildah; the image runs on the Docker engine', async () => {
    const dir = join(e.work, 'hello')
    cpSync(HELLO, dir, { recursive: true })
    const token = `s3cr3t-${randomUUID()}`
    writeFileSync(
      join(dir, 'pip.conf'),
      `# token=${token}\n[global]\nextra-index-url = ${e.secretIndex.url}\n`,
    )
    const spec = readFileSync(join(dir, 'imagespec.yaml'), 'utf8')
      .replaceAll('localhost:5000', e.registry.host)
      .replace('http://127.0.0.1:8765/simple/', e.index.url)
      .replace(
        'packages: [imagespec-hello-dep]',
        'packages: [imagespec-hello-dep, imagespec-secret-only]',
      )
    writeFileSync(
      join(dir, 'imagespec.yaml'),
      `${spec}pip_secret_mounts: [[pip.conf, /etc/pip.conf]]\n`,
    )
    // Relative paths in a spec resolve from the working directory (flytekit's rule): the project's.
    const loaded = await loadSpec(join(dir, 'imagespec.yaml'), { env: {}, cwd: dir })

    const engine = createEngine()
    engine.register(buildah(storage))
    const events: BuilderEvent[] = []
    mkdirSync(BUILDAH_TMPDIR, { recursive: true })
    const env = {
      ...process.env,
      TMPDIR: BUILDAH_TMPDIR,
      IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
      IMAGESPEC_BUILD_NETWORK: 'host',
    }
    const outcome = await engine.build(
      { ...loaded, spec: { ...loaded.spec, builder: 'buildah' } },
      { env, onEvent: (e) => events.push(e) },
    )
    expect(outcome).toMatchObject({ builder: 'buildah', build: true })
    const image = outcome.imageName
    expect(image.startsWith(`${e.registry.host}/imagespec-hello:`)).toBe(true)
    const pushed = events.find((e) => e.type === 'pushed')
    expect(pushed).toMatchObject({
      type: 'pushed',
      ref: image,
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    })
    expect(e.secretIndex.requests.some((p) => p.includes('imagespec-secret-only'))).toBe(true)
    const log = events.map((e) => ('text' in e ? e.text : '')).join('\n')
    expect(log).toContain('Run command: buildah')
    expect(log).not.toContain(token)

    // Pulled from the registry (the engine never saw the build), then run.
    pulled.push(image)
    docker('pull', image)
    expect(
      docker(
        'run',
        '--rm',
        '--network',
        'none',
        '--label',
        `${TEST_LABEL}=${RUN_ID}`,
        image,
        'python',
        '-m',
        'hello',
      ),
    ).toBe('Hello from buildah (from imagespec)\n')
    // The engine recorded what the tag is made of (for `imagespec explain --against <image>`).
    const labels = JSON.parse(
      docker('image', 'inspect', '--format', '{{json .Config.Labels}}', image),
    ) as Record<string, string>
    expect(parseExplainLabel(labels[EXPLAIN_LABEL])?.tag).toBe(
      image.slice(image.lastIndexOf(':') + 1),
    )
    const saved = join(e.work, 'image.tar')
    docker('save', '-o', saved, image)
    expect(readFileSync(saved).includes(token)).toBe(false)
    expect(docker('history', '--no-trunc', image)).not.toContain(token)
    expect(
      docker('image', 'inspect', '--format', '{{.Config.User}} {{index .Config.Env 0}}', image),
    ).toMatch(/^flytekit /)
    // About 3 minutes alone (vfs copies, the pip install, push and pull); much longer on a loaded machine.
  }, 900_000)
})
