// End to end, from a spec file through the CLI, against the real engine, a real registry started here, the offline
// base image and a local package index (a test wheel and a stub flytekit at the pinned version), with the pip
// installer and host networking.
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ensureBaseImage,
  skipWithoutEngine,
  startPackageIndex,
  startRegistry,
  TEST_LABEL,
  type RunningIndex,
  type RunningRegistry,
} from '@imagespec/test-utils'
import { runCli } from './_cli.js'

const DOCKER = '/usr/bin/docker'
const FLYTEKIT_VERSION = '1.16.24'
const RUN_ID = randomUUID()
const docker = (...args: string[]) =>
  execFileSync(DOCKER, args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] })

describe.skipIf(await skipWithoutEngine())('imagespec build, end to end', () => {
  let registry: RunningRegistry
  let index: RunningIndex
  let secretIndex: RunningIndex
  let base: string
  let work: string
  let cliTmp: string

  beforeAll(async () => {
    base = await ensureBaseImage()
    registry = await startRegistry()
    index = await startPackageIndex([
      { name: 'imagespec-e2e-dep', version: '1.0.0', files: { 'e2e_dep/__init__.py': 'GREETING = "hello from the index"\n' } },
      { name: 'flytekit', version: FLYTEKIT_VERSION, files: { 'flytekit/__init__.py': `__version__ = "${FLYTEKIT_VERSION}"\n` } },
    ])
    // Reachable only through the pip config served as a build secret.
    secretIndex = await startPackageIndex([
      { name: 'imagespec-secret-only', version: '1.0.0', files: { 'secret_only/__init__.py': 'OK = True\n' } },
    ])
    work = mkdtempSync(join(tmpdir(), 'imagespec-e2e-'))
    cliTmp = join(work, 'tmp')
    mkdirSync(cliTmp)
  })

  afterAll(async () => {
    const ids = docker('image', 'ls', '-q', '--filter', `label=${TEST_LABEL}=${RUN_ID}`).split('\n').filter(Boolean)
    if (ids.length) execFileSync(DOCKER, ['image', 'rm', '-f', ...new Set(ids)], { stdio: 'ignore' })
    await registry?.stop()
    await index?.stop()
    await secretIndex?.stop()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  /** A project dir with a spec (YAML) and a small source tree. */
  function project(name: string, extra: string[] = []): { dir: string; spec: string } {
    const dir = join(work, name)
    mkdirSync(join(dir, 'src/app'), { recursive: true })
    writeFileSync(join(dir, 'src/app/__init__.py'), 'VALUE = 1\n')
    const lines = [
      `name: ${name}`,
      `registry: ${registry.host}`,
      `base_image: ${base}`,
      'python_version: "3.11"',
      'packages: [imagespec-e2e-dep]',
      `pip_index: ${index.url}`,
      'pip_extra_args: --trusted-host 127.0.0.1',
      'source_root: src',
      'source_copy_mode: all',
      'builder_options: {installer: pip}',
      ...extra,
    ]
    writeFileSync(join(dir, 'imagespec.yaml'), lines.join('\n') + '\n')
    return { dir, spec: join(dir, 'imagespec.yaml') }
  }

  const env = () => ({
    IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
    IMAGESPEC_BUILD_NETWORK: 'host',
    IMAGESPEC_FLYTEKIT_VERSION: FLYTEKIT_VERSION,
    TMPDIR: cliTmp,
  })
  const build = (spec: string, ...args: string[]) =>
    runCli(['build', spec, '--label', `${TEST_LABEL}=${RUN_ID}`, ...args], { env: env() })
  const nameOf = async (spec: string) => JSON.parse((await runCli(['name', '--json', spec])).stdout)

  /** Every file of the registry's storage with its mtime: unchanged means nothing was pushed. */
  const registryState = () => {
    const out: string[] = []
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f)
        const st = statSync(p)
        if (st.isDirectory()) walk(p)
        else out.push(`${p}@${st.mtimeMs}`)
      }
    }
    walk(registry.dir)
    return out.sort()
  }

  it('builds and pushes; the image runs, imports the package, and carries _F_IMG_ID; a second build is skipped', async () => {
    const { spec } = project('e2e-hello')
    const { id, image_name } = await nameOf(spec)
    const first = await build(spec, '--progress', 'plain')
    expect(first.stderr + first.stdout).not.toContain('internal error')
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`Image ${image_name} not found. building...`)
    expect(first.stdout).toContain(`Run command: docker build --tag ${image_name} --platform linux/amd64 --network host --push - `)
    expect(first.stderr).toContain(`pushed ${image_name}`)

    expect((await runCli(['exists', spec])).code).toBe(0)
    const out = docker('run', '--rm', '--label', `${TEST_LABEL}=${RUN_ID}`, image_name, 'python', '-c',
      'import e2e_dep, app, flytekit; print(e2e_dep.GREETING, app.VALUE, flytekit.__version__)')
    expect(out.trim()).toBe(`hello from the index 1 ${FLYTEKIT_VERSION}`)
    const envList = JSON.parse(docker('image', 'inspect', '--format', '{{json .Config.Env}}', image_name)) as string[]
    expect(envList).toContain(`_F_IMG_ID=${id}`)

    const before = registryState()
    const second = await build(spec, '--progress', 'plain')
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toBe(`Image ${image_name} found. Skip building.\n`)
    expect(second.stderr).not.toContain('pushed')
    expect(registryState()).toEqual(before)
  })

  it('serves a pip secret mount to the build and leaves no trace of it in the layers or the history', async () => {
    const token = `s3cr3t-${randomUUID()}`
    const { dir, spec } = project('e2e-secret', ['pip_secret_mounts: [[pip.conf, /etc/pip.conf]]'])
    writeFileSync(join(dir, 'pip.conf'), `# token=${token}\n[global]\nextra-index-url = ${secretIndex.url}\n`)
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('packages: [imagespec-e2e-dep]', 'packages: [imagespec-e2e-dep, imagespec-secret-only]'))
    const { image_name } = await nameOf(spec)
    const res = await build(spec, '--progress', 'plain')
    expect(res.code, res.stderr).toBe(0)
    expect(secretIndex.requests.some((p) => p.includes('imagespec-secret-only'))).toBe(true)
    expect(res.stdout + res.stderr).not.toContain(token)
    const saved = join(work, 'secret-image.tar')
    docker('save', '-o', saved, image_name)
    expect(readFileSync(saved).includes(token)).toBe(false)
    expect(docker('history', '--no-trunc', image_name)).not.toContain(token)
    expect(docker('image', 'inspect', image_name)).not.toContain(token)
  })

  it('a failing command exits non-zero, shows the failing step and its log tail, pushes nothing, leaves no temp', async () => {
    const { spec } = project('e2e-fail', ['commands: ["echo about-to-fail-e2e && exit 3"]'])
    const { image_name } = await nameOf(spec)
    const res = await build(spec, '--progress', 'plain')
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('about-to-fail-e2e')
    expect(res.stderr).toMatch(/exit 3/)
    expect(res.stderr).toContain('[E_BUILD_FAILED]')
    expect(res.stderr).not.toMatch(/\n\s+at .*\.(ts|js):\d+/) // no stack trace
    expect((await runCli(['exists', '--ref', image_name])).code).toBe(1)
    expect(readdirSync(cliTmp).filter((f) => f !== 'imagespec-locks' && !f.startsWith('tsx-'))).toEqual([])
  })

  it('after a source-only edit, the rebuild reruns no dependency-install step', async () => {
    const { dir, spec } = project('e2e-source')
    const first = await build(spec, '--progress', 'json')
    expect(first.code, first.stderr).toBe(0)
    writeFileSync(join(dir, 'src/app/__init__.py'), 'VALUE = 2\n')
    const { image_name } = await nameOf(spec)
    const second = await build(spec, '--progress', 'json')
    expect(second.code, second.stderr).toBe(0)
    const events = second.stdout.trim().split('\n').map((l) => JSON.parse(l))
    const install = (e: { step?: { name: string } }) => /requirements_pip\.txt|pip install/.test(e.step?.name ?? '')
    const cachedInstall = events.filter((e) => e.type === 'step-cached' && install(e))
    const rerunInstall = events.filter((e) => e.type === 'step-started' && install(e) &&
      !events.some((c) => c.type === 'step-cached' && c.step.digest === e.step.digest))
    expect(cachedInstall.length).toBeGreaterThan(0)
    expect(rerunInstall).toEqual([])
    expect(events.find((e) => e.type === 'result').steps.cached).toBeGreaterThan(0)
    const out = docker('run', '--rm', '--label', `${TEST_LABEL}=${RUN_ID}`, image_name, 'python', '-c', 'import app; print(app.VALUE)')
    expect(out.trim()).toBe('2')
  })

  it('--dry-run prints the name, the decision, the Dockerfile and the engine call, and touches nothing', async () => {
    const { spec } = project('e2e-dry')
    const { image_name } = await nameOf(spec)
    const before = registryState()
    const res = await runCli(['build', '--dry-run', spec], { env: env() })
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toContain(`Image: ${image_name}`)
    expect(res.stdout).toContain(`Would build: yes (Image ${image_name} not found. building...)`)
    expect(res.stdout).toContain('ENV _F_IMG_ID=')
    expect(res.stdout).toContain(`Engine call: docker build --tag ${image_name} --platform linux/amd64 --network host --push -`)
    expect(() => docker('image', 'inspect', image_name)).toThrow()
    expect(registryState()).toEqual(before)
  })
})
