// End to end, from a spec file through the CLI, against the real engine, a real registry started here, the offline
// base image and a local package index (a test wheel and a stub flytekit at the pinned version), with the pip
// installer and host networking.
import { createHash, randomUUID } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  docker,
  FLYTEKIT_VERSION,
  skipWithoutEngine,
  startEngineProxy,
  TEST_LABEL,
  uniqueBaseImage,
  useBuildEnv,
} from '@imagespec/test-utils'
import { runCli } from './_cli.js'

describe.skipIf(await skipWithoutEngine())('imagespec build, end to end', () => {
  const e = useBuildEnv({
    prefix: 'imagespec-e2e-',
    wheels: [
      {
        name: 'imagespec-e2e-dep',
        version: '1.0.0',
        files: { 'e2e_dep/__init__.py': 'GREETING = "hello from the index"\n' },
      },
    ],
    // imagespec-secret-only: reachable only through the pip config served as a build secret.
    secretIndex: true,
  })
  /** Runs `python -c code` in the image; its trimmed output. */
  const run = (image: string, code: string) =>
    docker('run', '--rm', '--label', `${TEST_LABEL}=${RUN_ID}`, image, 'python', '-c', code).trim()
  const RUN_ID = e.runId
  const cliTmp = () => join(e.work, 'tmp')

  /** A project dir with a spec (YAML) and a small source tree. */
  function project(name: string, extra: string[] = []): { dir: string; spec: string } {
    const dir = join(e.work, name)
    mkdirSync(join(dir, 'src/app'), { recursive: true })
    writeFileSync(join(dir, 'src/app/__init__.py'), 'VALUE = 1\n')
    const lines = [
      `name: ${name}`,
      `registry: ${e.registry.host}`,
      `base_image: ${e.base}`,
      'python_version: "3.11"',
      'packages: [imagespec-e2e-dep]',
      `pip_index: ${e.index.url}`,
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
    TMPDIR: cliTmp(),
  })
  // Relative paths in a spec resolve from the working directory (flytekit's rule): run from the project directory.
  const build = (spec: string, ...args: string[]) => buildWith({}, spec, ...args)
  const buildWith = (extraEnv: Record<string, string>, spec: string, ...args: string[]) =>
    runCli(['build', spec, '--label', `${TEST_LABEL}=${RUN_ID}`, ...args], {
      env: { ...env(), ...extraEnv },
      cwd: dirname(spec),
    })
  const nameOf = async (spec: string) =>
    JSON.parse((await runCli(['-C', dirname(spec), 'name', '--json', spec])).stdout)

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
    walk(e.registry.dir)
    return out.sort()
  }

  it('builds and pushes; the image runs, imports the package, and carries _F_IMG_ID; a second build is skipped', async () => {
    const { spec } = project('e2e-hello')
    const { id, image_name } = await nameOf(spec)
    const first = await build(spec, '--progress', 'plain')
    expect(first.stderr + first.stdout).not.toContain('internal error')
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`Image ${image_name} not found. building...`)
    expect(first.stdout).toContain(
      `Run command: docker build --tag ${image_name} --platform linux/amd64 --network host --push - `,
    )
    expect(first.stderr).toContain(`pushed ${image_name}`)

    expect((await runCli(['exists', spec], { cwd: dirname(spec) })).code).toBe(0)
    const out = run(
      image_name,
      'import e2e_dep, app, flytekit; print(e2e_dep.GREETING, app.VALUE, flytekit.__version__)',
    )
    expect(out).toBe(`hello from the index 1 ${FLYTEKIT_VERSION}`)
    const envList = JSON.parse(
      docker('image', 'inspect', '--format', '{{json .Config.Env}}', image_name),
    ) as string[]
    expect(envList).toContain(`_F_IMG_ID=${id}`)

    const before = registryState()
    const second = await build(spec, '--progress', 'plain')
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toBe(`Image ${image_name} found. Skip building.\n`)
    expect(second.stderr).not.toContain('pushed')
    expect(registryState()).toEqual(before)
  })

  /** A project whose pip install needs the private index that only a pip.conf secret names; resolves the token. */
  function secretProject(name: string): { spec: string; token: string } {
    const token = `s3cr3t-${randomUUID()}`
    // the env entry keeps the pip step unique per test: a secret is not part of a step's cache key, so another test's
    // identical step would otherwise answer from the cache and never read the secret
    const { dir, spec } = project(name, [
      'pip_secret_mounts: [[pip.conf, /etc/pip.conf]]',
      `env: {TEST_CASE: ${name}}`,
    ])
    writeFileSync(
      join(dir, 'pip.conf'),
      `# token=${token}\n[global]\nextra-index-url = ${e.secretIndex.url}\n`,
    )
    writeFileSync(
      spec,
      readFileSync(spec, 'utf8').replace(
        'packages: [imagespec-e2e-dep]',
        'packages: [imagespec-e2e-dep, imagespec-secret-only]',
      ),
    )
    return { spec, token }
  }

  /** The token is in neither the build's output nor the image's layers, history or config. */
  function expectNoTrace(token: string, image_name: string, output: string): void {
    expect(output).not.toContain(token)
    const saved = join(e.work, 'secret-image.tar')
    docker('save', '-o', saved, image_name)
    expect(readFileSync(saved).includes(token)).toBe(false)
    rmSync(saved)
    expect(docker('history', '--no-trunc', image_name)).not.toContain(token)
    expect(docker('image', 'inspect', image_name)).not.toContain(token)
  }

  it('serves a pip secret mount to the build and leaves no trace of it in the layers or the history', async () => {
    const { spec, token } = secretProject('e2e-secret')
    const { image_name } = await nameOf(spec)
    const res = await build(spec, '--progress', 'plain')
    expect(res.code, res.stderr).toBe(0)
    expect(e.secretIndex.requests.some((p) => p.includes('imagespec-secret-only'))).toBe(true)
    expectNoTrace(token, image_name, res.stdout + res.stderr)
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
    expect(
      readdirSync(cliTmp()).filter((f) => f !== 'imagespec-locks' && !f.startsWith('tsx-')),
    ).toEqual([])
  })

  it('after a source-only edit, the rebuild reruns no dependency-install step', async () => {
    const { dir, spec } = project('e2e-source')
    const first = await build(spec, '--progress', 'json')
    expect(first.code, first.stderr).toBe(0)
    writeFileSync(join(dir, 'src/app/__init__.py'), 'VALUE = 2\n')
    const { image_name } = await nameOf(spec)
    const second = await build(spec, '--progress', 'json')
    expect(second.code, second.stderr).toBe(0)
    const events = second.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const install = (e: { step?: { name: string } }) =>
      /requirements_pip\.txt|pip install/.test(e.step?.name ?? '')
    const cachedInstall = events.filter((e) => e.type === 'step-cached' && install(e))
    const rerunInstall = events.filter(
      (e) =>
        e.type === 'step-started' &&
        install(e) &&
        !events.some((c) => c.type === 'step-cached' && c.step.digest === e.step.digest),
    )
    expect(cachedInstall.length).toBeGreaterThan(0)
    expect(rerunInstall).toEqual([])
    expect(events.find((e) => e.type === 'result').steps.cached).toBeGreaterThan(0)
    const out = run(image_name, 'import app; print(app.VALUE)')
    expect(out).toBe('2')
  })

  it('pip installer without base_image: the default base is a Python image for python_version; a differing base Python warns', async () => {
    // IMAGESPEC_PIP_BASE_IMAGE points the default (python:{python_version}-slim) at the offline base image.
    const template = e.base.replace(/:3\.11$/, ':{python_version}')
    expect(template).toContain('{python_version}')
    const { dir, spec } = project('e2e-pip-base')
    writeFileSync(spec, readFileSync(spec, 'utf8').replace(`base_image: ${e.base}\n`, ''))
    const { image_name } = await nameOf(spec)
    const res = await runCli(
      ['build', spec, '--label', `${TEST_LABEL}=${RUN_ID}`, '--progress', 'plain'],
      {
        env: { ...env(), IMAGESPEC_PIP_BASE_IMAGE: template },
        cwd: dir,
      },
    )
    expect(res.code, res.stderr).toBe(0)
    expect(res.stderr).not.toContain('UserWarning')
    const out = run(
      image_name,
      'import sys, e2e_dep; print("%d.%d" % sys.version_info[:2], e2e_dep.GREETING)',
    )
    expect(out).toBe('3.11 hello from the index')

    const other = project('e2e-pip-mismatch')
    writeFileSync(
      other.spec,
      readFileSync(other.spec, 'utf8').replace('python_version: "3.11"', 'python_version: "3.12"'),
    )
    const rendered = await runCli(['render', '--dockerfile-only', other.spec], {
      env: env(),
      cwd: other.dir,
    })
    expect(rendered.code, rendered.stderr).toBe(0)
    expect(rendered.stderr).toContain(
      `UserWarning: base_image "${e.base}" has Python 3.11, but python_version is "3.12"`,
    )
  })

  it('--dry-run prints the name, the decision, the Dockerfile and the engine call, and touches nothing', async () => {
    const { spec } = project('e2e-dry')
    const { image_name } = await nameOf(spec)
    const before = registryState()
    const res = await runCli(['build', '--dry-run', spec], { env: env(), cwd: dirname(spec) })
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toContain(`Image: ${image_name}`)
    expect(res.stdout).toContain(`Would build: yes (Image ${image_name} not found. building...)`)
    expect(res.stdout).toContain('ENV _F_IMG_ID=')
    expect(res.stdout).toContain(
      `Engine call: docker build --tag ${image_name} --platform linux/amd64 --network host --push -`,
    )
    expect(() => docker('image', 'inspect', image_name)).toThrow()
    expect(registryState()).toEqual(before)
  })

  it('--dry-run shows the build caches of IMAGESPEC_CACHE_FROM and IMAGESPEC_CACHE_TO in the engine call; a bad one exits 2 naming the variable', async () => {
    const { spec } = project('e2e-dry-cache')
    const { image_name } = await nameOf(spec)
    const from = `${e.registry.host}/cache:a`
    const res = await buildWith(
      {
        IMAGESPEC_CACHE_FROM: `type=registry,ref=${from} ${e.registry.host}/cache:b`,
        IMAGESPEC_CACHE_TO: 'type=inline',
      },
      spec,
      '--dry-run',
    )
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toContain(
      `Engine call: docker build --tag ${image_name} --platform linux/amd64 --network host --cache-from type=registry,ref=${from} --cache-from type=registry,ref=${e.registry.host}/cache:b --cache-to type=inline --push -`,
    )
    // A flag replaces the variable, as buildx's flags replace defaults.
    const flag = await buildWith(
      { IMAGESPEC_CACHE_FROM: 'type=local,src=/x' },
      spec,
      '--dry-run',
      '--cache-from',
      from,
    )
    expect(flag.code, flag.stderr).toBe(0)
    expect(flag.stdout).toContain(`--cache-from type=registry,ref=${from} --push -`)
    const bad = await buildWith({ IMAGESPEC_CACHE_FROM: 'type=local,src=/x' }, spec, '--dry-run')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('Invalid IMAGESPEC_CACHE_FROM "type=local,src=/x"')
  })

  it("honours DOCKER_CONTEXT, then the docker config's currentContext, as the docker CLI does", async () => {
    const proxy = await startEngineProxy()
    const config = join(e.work, 'docker-config')
    try {
      // A context whose engine is the CI engine behind a logging proxy.
      const meta = join(
        config,
        'contexts/meta',
        createHash('sha256').update('via-proxy').digest('hex'),
      )
      mkdirSync(meta, { recursive: true })
      writeFileSync(
        join(meta, 'meta.json'),
        JSON.stringify({
          Name: 'via-proxy',
          Metadata: {},
          Endpoints: { docker: { Host: `unix://${proxy.socketPath}`, SkipTLSVerify: false } },
        }),
      )
      const { spec } = project('docker-context')
      const { image_name } = await nameOf(spec)
      const ctxEnv = { DOCKER_HOST: '', DOCKER_CONFIG: config }
      const named = await buildWith({ ...ctxEnv, DOCKER_CONTEXT: 'via-proxy' }, spec)
      expect(named.code, named.stderr).toBe(0)
      expect(named.stderr).toContain(`pushed ${image_name}`)
      expect(proxy.requests.filter((r) => r.startsWith('POST /build'))).toHaveLength(1)
      // No DOCKER_CONTEXT: the config's currentContext names it.
      writeFileSync(join(config, 'config.json'), JSON.stringify({ currentContext: 'via-proxy' }))
      // flytekit's FLYTE_FORCE_PUSH_IMAGE_SPEC rebuilds the image that exists (str2bool: "True").
      const current = await buildWith({ ...ctxEnv, FLYTE_FORCE_PUSH_IMAGE_SPEC: 'True' }, spec)
      expect(current.code, current.stderr).toBe(0)
      expect(proxy.requests.filter((r) => r.startsWith('POST /build'))).toHaveLength(2)
      // A context that does not exist is bad configuration: exit 2, nothing built.
      const absent = await buildWith({ ...ctxEnv, DOCKER_CONTEXT: 'absent' }, spec, '--force')
      expect(absent.code).toBe(2)
      expect(absent.stderr).toContain('Docker context "absent" not found')
      expect(proxy.requests.filter((r) => r.startsWith('POST /build'))).toHaveLength(2)
    } finally {
      await proxy.stop()
    }
  })

  describe("through BUILDKIT_HOST=dockerd+unix:// (BuildKit's control API on the engine's /grpc)", () => {
    it('builds with a pip secret, pushes, and the image runs; /grpc only, never /build; no trace of the secret', async () => {
      const proxy = await startEngineProxy()
      try {
        const { spec, token } = secretProject('bk-secret')
        const { image_name } = await nameOf(spec)
        e.secretIndex.requests.length = 0
        const res = await buildWith(
          { BUILDKIT_HOST: `dockerd+unix://${proxy.socketPath}` },
          spec,
          '--progress',
          'plain',
        )
        expect(res.code, res.stderr).toBe(0)
        expect(res.stderr).toContain(`pushed ${image_name}`)
        expect(res.stderr).toMatch(/#\d+ \[[^\]]*\] RUN .*pip install/)
        expect(e.secretIndex.requests.some((p) => p.includes('imagespec-secret-only'))).toBe(true)
        expect(proxy.requests).toContain('POST /grpc')
        expect(proxy.requests.filter((r) => /^POST \/(build|session)\b/.test(r))).toEqual([])
        expect(
          proxy.requests.some((r) => r.startsWith('POST /images/') && r.endsWith('/push')),
        ).toBe(true)
        expectNoTrace(token, image_name, res.stdout + res.stderr)
        docker('image', 'rm', image_name)
        docker('pull', image_name) // from the registry the build pushed to
        expect(run(image_name, 'import secret_only, e2e_dep; print(secret_only.OK)')).toBe('True')
      } finally {
        await proxy.stop()
      }
    })

    it('inline cache: on a pruned engine, a source-only rebuild with --cache-from reuses the pip layer (CACHED)', async () => {
      const bk = { BUILDKIT_HOST: 'dockerd+unix:///var/run/docker.sock' }
      const { dir, spec } = project('bk-cache')
      // FROM a base of this run's own: no step is shared with a build running beside it on the engine (BuildKit
      // merges those, and a merged step does not use this build's --cache-from)
      const base = await uniqueBaseImage(RUN_ID, TEST_LABEL)
      writeFileSync(
        spec,
        readFileSync(spec, 'utf8').replace(`base_image: ${e.base}\n`, `base_image: ${base}\n`),
      )
      const first = await nameOf(spec)
      const cold = await buildWith(
        { ...bk, IMAGESPEC_CACHE_TO: 'type=inline' },
        spec,
        '--progress',
        'plain',
      )
      expect(cold.code, cold.stderr).toBe(0)
      expect(cold.stderr).toContain(`pushed ${first.image_name}`)
      // local state gone: our image, and the engine's whole build cache (other runs lose cache, not correctness)
      docker('image', 'rm', first.image_name)
      docker('builder', 'prune', '-af')
      writeFileSync(join(dir, 'src/app/__init__.py'), 'VALUE = 2\n')
      const second = await nameOf(spec)
      expect(second.image_name).not.toBe(first.image_name)
      const warm = await buildWith(
        bk,
        spec,
        '--progress',
        'plain',
        '--cache-from',
        `type=registry,ref=${first.image_name}`,
      )
      expect(warm.code, warm.stderr).toBe(0)
      expect(warm.stderr).toContain(`importing cache manifest from ${first.image_name}`)
      const cached = warm.stderr.split('\n').filter((l) => l.endsWith(' CACHED'))
      expect(
        cached.filter((l) => l.includes('pip install')),
        warm.stderr,
      ).not.toEqual([])
      expect(run(second.image_name, 'import app, e2e_dep; print(app.VALUE)')).toBe('2')
    })

    it("refuses --cache-to type=registry on the engine's BuildKit, naming the limit, before building", async () => {
      const { spec } = project('bk-registry-cache')
      const { image_name } = await nameOf(spec)
      const res = await buildWith(
        { BUILDKIT_HOST: 'dockerd+unix:///var/run/docker.sock' },
        spec,
        '--cache-to',
        `type=registry,ref=${e.registry.host}/cache:bk`,
      )
      expect(res.code).toBe(2) // bad configuration: exit 2, as the exit-code table says (E_CONFIG_INVALID)
      expect(res.stderr).toContain('embedded BuildKit cannot export a registry cache')
      expect(res.stderr).toContain('[E_CONFIG_INVALID]')
      expect(() => docker('image', 'inspect', image_name)).toThrow()
    })
  })
})
