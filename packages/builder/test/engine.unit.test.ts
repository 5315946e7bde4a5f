import { spawnSync } from 'node:child_process'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import {
  EXPLAIN_LABEL,
  parseExplainLabel,
  specFromObject,
  str2bool,
  type BuilderEvent,
  type BuilderPlugin,
  type LoadedSpec,
} from '@imagespec/spec'
import {
  createEngine,
  defineBuilder,
  parseCacheFrom,
  parseCacheTo,
  resolveSettings,
  type ContextSettings,
  type EngineOptions,
  type ExistsAnswer,
} from '../src/index.js'
import { defaultLockDir, withImageLock } from '../src/_lock.js'
import { recordingDriver } from './_fakes.js'

const scratch = mkdtempSync(path.join(tmpdir(), 'imagespec-engine-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const lockDir = path.join(scratch, 'locks')

const spec = (input: Record<string, unknown>, env: Record<string, string> = {}): LoadedSpec =>
  specFromObject({ python_version: '3.11', ...input }, { cwd: scratch, env })

function recorder(name: string, extra: Partial<BuilderPlugin> = {}) {
  const calls: { image: string; base: unknown }[] = []
  const plugin: BuilderPlugin = {
    name,
    contractVersion: 1,
    capabilities: { cacheMounts: false, secrets: false, multiPlatform: false, push: false },
    async build(req) {
      calls.push({ image: req.imageName, base: req.loaded.spec.base_image })
      return {}
    },
    ...extra,
  }
  return { plugin, calls }
}

const answer = (status: ExistsAnswer['status']) => async (): Promise<ExistsAnswer> => ({
  status,
  reason: 'denied',
})

/** An engine whose images are all missing and whose default builder drives `driver` without credentials. */
const engineOn = (
  driver: ReturnType<typeof recordingDriver>,
  deps: NonNullable<EngineOptions['defaultBuilder']> = {},
) =>
  createEngine({
    exists: answer('missing'),
    lockDir,
    defaultBuilder: { driver: async () => driver, auth: async () => undefined, ...deps },
  })

describe('builder registry and priorities', () => {
  it("fails with flytekit's texts when no builder or an unknown one is asked for", async () => {
    await expect(createEngine({ builtins: false }).getBuilder()).rejects.toMatchObject({
      code: 'E_BUILDER_NOT_FOUND',
      message: 'There is no image builder registered.',
    })
    await expect(createEngine().getBuilder('test', [scratch])).rejects.toMatchObject({
      code: 'E_BUILDER_NOT_FOUND',
      message: 'Image builder test is not registered.',
    })
  })

  it('ships default (1) and noop (0) and picks the highest priority when no name is given', async () => {
    const engine = createEngine()
    expect([...engine.builders()].map(([n, b]) => [n, b.priority])).toEqual([
      ['default', 1],
      ['noop', 0],
    ])
    expect((await engine.getBuilder()).name).toBe('default')
    engine.register(recorder('remote').plugin, 10)
    expect((await engine.getBuilder()).name).toBe('remote')
    engine.register(recorder('plain').plugin)
    expect(engine.builders().get('plain')?.priority).toBe(5)
  })

  it('builds with the builder the spec names, and --builder overrides it', async () => {
    const a = recorder('a')
    const b = recorder('b')
    const engine = createEngine({ exists: answer('missing'), lockDir })
    engine.register(a.plugin)
    engine.register(b.plugin)
    await engine.build(spec({ name: 'x', builder: 'a' }))
    const settings = { ...resolveSettings({}), builder: 'b' }
    await engine.build(spec({ name: 'x', builder: 'a' }), { settings })
    expect([a.calls.length, b.calls.length]).toEqual([1, 1])
  })
})

describe('noop builder and the name map', () => {
  it('maps the image name to the base image (flytekit NoOpBuilder)', async () => {
    const engine = createEngine({ exists: answer('missing'), lockDir })
    const loaded = spec({ name: 'app', builder: 'noop', base_image: 'ghcr.io/acme/prebuilt:1' })
    const events: BuilderEvent[] = []
    const outcome = await engine.build(loaded, { onEvent: (e) => events.push(e) })
    expect(outcome.realName).toBe('ghcr.io/acme/prebuilt:1')
    expect(events).toEqual([
      { type: 'notice', level: 'info', text: 'Using image: ghcr.io/acme/prebuilt:1' },
    ])
    expect(engine.nameMap.get(outcome.imageName)).toBe('ghcr.io/acme/prebuilt:1')
    expect(await engine.imageName(loaded)).toBe('ghcr.io/acme/prebuilt:1')
  })

  it("refuses a non-string base image with flytekit's text", async () => {
    const engine = createEngine({ exists: answer('missing'), lockDir })
    await expect(engine.build(spec({ name: 'app', builder: 'noop' }))).rejects.toThrow(
      'base_image must be a string to use the noop image builder',
    )
  })
})

describe('nested base_image specs', () => {
  it('hands the builder the explain label next to the user labels', async () => {
    let labels: Record<string, string> = {}
    const engine = createEngine({ builtins: false, exists: answer('missing'), lockDir })
    engine.register(
      recorder('lab', {
        build: async (req) => (
          (labels = (req.settings as { labels: Record<string, string> }).labels),
          {}
        ),
      }).plugin,
    )
    const loaded = spec({ name: 'lab', packages: ['a'], builder: 'lab' })
    await engine.build(loaded, { settings: resolveSettings({}, { labels: { team: 'ml' } }) })
    expect(labels.team).toBe('ml')
    const recorded = parseExplainLabel(labels[EXPLAIN_LABEL])!
    expect(recorded.tag).toBe((await engine.imageName(loaded)).split(':')[1])
    expect(Object.keys(recorded.fields)).toContain('packages')
  })

  it('builds the base first and hands the final build its image name', async () => {
    const r = recorder('rec')
    const engine = createEngine({ exists: answer('missing'), lockDir })
    engine.register(r.plugin)
    const loaded = spec({
      name: 'final',
      builder: 'rec',
      base_image: { name: 'base', builder: 'rec', python_version: '3.11' },
    })
    const outcome = await engine.build(loaded)
    expect(r.calls.map((c) => c.image.split(':')[0])).toEqual(['base', 'final'])
    expect(r.calls[1].base).toBe(r.calls[0].image)
    expect(outcome.bases.map((b) => b.imageName)).toEqual([r.calls[0].image])
  })
})

describe('should-build rules', () => {
  const run = async (status: ExistsAnswer['status'], env: Record<string, string> = {}) => {
    const r = recorder('rec')
    const engine = createEngine({ exists: answer(status), lockDir })
    engine.register(r.plugin)
    const events: string[] = []
    const loaded = spec({ name: 'img', builder: 'rec', registry: 'localhost:30000' }, env)
    const outcome = await engine.build(loaded, {
      env,
      settings: resolveSettings(env),
      onEvent: (e) => e.type === 'notice' && events.push(e.text),
    })
    return { built: r.calls.length, events, outcome }
  }

  it('builds a missing image', async () => {
    const { built, events, outcome } = await run('missing')
    expect(built).toBe(1)
    expect(events).toEqual([`Image ${outcome.imageName} not found. building...`])
  })
  it('skips an existing image', async () => {
    const { built, events, outcome } = await run('exists')
    expect(built).toBe(0)
    expect(events).toEqual([`Image ${outcome.imageName} found. Skip building.`])
  })
  it('rebuilds an existing image under FLYTE_FORCE_PUSH_IMAGE_SPEC', async () => {
    const { built, events, outcome } = await run('exists', { FLYTE_FORCE_PUSH_IMAGE_SPEC: 'yes' })
    expect(built).toBe(1)
    expect(events).toEqual([`Overwriting existing image ${outcome.imageName}.`])
  })
  it('assumes an unknown image exists', async () => {
    const { built, events, outcome } = await run('unknown')
    expect(built).toBe(0)
    expect(events).toEqual([
      'Failed to check if the image exists with error:\n denied',
      `Flytekit assumes the image ${outcome.imageName} already exists.`,
    ])
  })
  it('fails fast on unknown under FLYTE_IMG_FAST_FAIL', async () => {
    await expect(run('unknown', { FLYTE_IMG_FAST_FAIL: '1' })).rejects.toMatchObject({
      code: 'E_IMAGE_EXISTS_UNKNOWN',
      message: expect.stringContaining('configured with the env var `FLYTE_IMG_FAST_FAIL`'),
    })
  })
  it("reads flytekit's env flags like flytekit", () => {
    expect([
      str2bool(undefined),
      str2bool('0'),
      str2bool('Off'),
      str2bool('no'),
      str2bool('1'),
      str2bool('y'),
    ]).toEqual([false, false, false, false, true, true])
    // set but empty is true, as flytekit's str2bool answers for os.environ.get(...) == ''
    expect(
      resolveSettings({ FLYTE_FORCE_PUSH_IMAGE_SPEC: '', FLYTE_IMG_FAST_FAIL: '' }),
    ).toMatchObject({ force: true, fastFail: true })
    expect(resolveSettings({})).toMatchObject({ force: false, fastFail: false })
    expect(resolveSettings({}).push).toBe(true)
    expect(resolveSettings({ FLYTE_PUSH_IMAGE_SPEC: 'yes' }).push).toBe(false)
    expect(resolveSettings({ FLYTE_PUSH_IMAGE_SPEC: 'TRUE' }).push).toBe(true)
    expect(resolveSettings({ FLYTE_PUSH_IMAGE_SPEC: '0' }, { push: true }).push).toBe(true)
    expect(resolveSettings({ IMAGESPEC_BUILD_NETWORK: 'host' }).network).toBe('host')
    expect(() => resolveSettings({}, { network: 'host; rm -rf' })).toThrow('Invalid network mode')
  })
  it('reads the render settings from the build environment, under the flags, only when a context is made', async () => {
    const env = { IMAGESPEC_DOCKERFILE_SYNTAX: 'none', IMAGESPEC_FLYTEKIT_VERSION: 'not a version' }
    const settings = resolveSettings(env, { flytekitVersion: 'v1.15.2' })
    expect(settings.render).toEqual({ flytekitVersion: 'v1.15.2' })
    let seen: Partial<ContextSettings> = {}
    const engine = createEngine({
      exists: answer('missing'),
      lockDir,
      defaultBuilder: {
        contextPlan: async (loaded, s) => {
          seen = s
          return (await import('../src/context.js')).createContextPlan(loaded, s)
        },
      },
    })
    const outcome = await engine.build(spec({ name: 'dry-env' }), { settings, env, dryRun: true })
    expect(seen).toMatchObject({ syntax: null, flytekitVersion: '1.15.2' })
    expect(outcome.description?.dockerfile).not.toContain('syntax=')
    const bad = resolveSettings({ IMAGESPEC_DEFAULT_PYTHON_VERSION: 'x' })
    await expect(
      engine.build(spec({ name: 'dry-bad' }), {
        settings: bad,
        env: { IMAGESPEC_DEFAULT_PYTHON_VERSION: 'x' },
        dryRun: true,
      }),
    ).rejects.toMatchObject({ code: 'E_CONFIG_INVALID' })
  })
  it('a dry run decides and describes but builds nothing', async () => {
    const driver = recordingDriver()
    const engine = engineOn(driver)
    const outcome = await engine.build(spec({ name: 'dry', packages: ['requests'] }), {
      dryRun: true,
    })
    expect(outcome.build).toBe(true)
    expect(outcome.description?.dockerfile).toContain('ENV _F_IMG_ID=')
    expect(outcome.description?.command).toBe(
      `docker build --tag ${outcome.imageName} --platform linux/amd64 -`,
    )
    expect(driver.builds).toEqual([])
  })
})

describe('the default builder', () => {
  it('refuses to build when the tag changed while the context was made', async () => {
    const req = path.join(scratch, 'req-guard.txt')
    writeFileSync(req, 'a\n')
    const driver = recordingDriver()
    const engine = engineOn(driver, {
      contextPlan: async (loaded, settings) => {
        const plan = await (await import('../src/context.js')).createContextPlan(loaded, settings)
        writeFileSync(req, 'b\n') // the requirements file changes while the context is made
        return plan
      },
    })
    await expect(
      engine.build(spec({ name: 'guard', requirements: 'req-guard.txt' })),
    ).rejects.toMatchObject({
      code: 'E_TAG_CHANGED',
      message: expect.stringMatching(
        /^Hash-based image tag changed from \S+ to \S+ while creating the context,indicating/,
      ),
    })
    expect(driver.builds).toEqual([])
  })

  it('serves pip_secret_mounts as secrets, streams the context, pushes only with a registry', async () => {
    const driver = recordingDriver()
    const engine = engineOn(driver, {
      packContext: () => Readable.from([]),
    })
    await engine.build(
      spec({
        name: 'sec',
        registry: 'localhost:5000',
        pip_secret_mounts: [['token.txt', '/root/.netrc']],
      }),
      {
        settings: { ...resolveSettings({ IMAGESPEC_BUILD_NETWORK: 'host' }), labels: { a: 'b' } },
      },
    )
    expect(driver.builds[0]).toMatchObject({
      platform: 'linux/amd64',
      network: 'host',
      labels: { a: 'b' },
      secrets: { secret_0: { src: path.join(scratch, 'token.txt') } },
    })
    expect(driver.pushes).toEqual(driver.builds[0].tags)
    await engine.build(spec({ name: 'sec-nopush', registry: 'localhost:5000' }), {
      settings: resolveSettings({ FLYTE_PUSH_IMAGE_SPEC: '0' }),
    })
    expect(driver.pushes).toHaveLength(1)
  })

  it('passes build caches to the driver, and does not push again what the build pushed itself', async () => {
    const driver = recordingDriver({ pushesInBuild: true })
    const engine = engineOn(driver, {
      packContext: () => Readable.from([]),
    })
    const events: BuilderEvent[] = []
    const env = {
      IMAGESPEC_CACHE_FROM: 'type=registry,ref=r/a:1 r/b:2',
      IMAGESPEC_CACHE_TO: 'type=inline',
    }
    await engine.build(spec({ name: 'cache', registry: 'localhost:5000' }), {
      settings: resolveSettings(env),
      onEvent: (e) => events.push(e),
    })
    expect(driver.builds[0]).toMatchObject({
      push: true,
      cacheFrom: [
        { type: 'registry', ref: 'r/a:1' },
        { type: 'registry', ref: 'r/b:2' },
      ],
      cacheTo: [{ type: 'inline' }],
    })
    expect(driver.pushes).toEqual([])
    expect(events).toContainEqual({
      type: 'pushed',
      ref: driver.builds[0].tags[0],
      digest: 'sha256:pushed',
    })
  })
})

describe('build cache settings (buildx syntax)', () => {
  it('reads --cache-from and --cache-to values, flags over the environment', () => {
    expect(parseCacheFrom('type=registry,ref=localhost:5000/app:cache')).toEqual({
      type: 'registry',
      ref: 'localhost:5000/app:cache',
    })
    expect(parseCacheFrom('localhost:5000/app:1')).toEqual({
      type: 'registry',
      ref: 'localhost:5000/app:1',
    })
    expect(parseCacheTo('type=inline')).toEqual({ type: 'inline' })
    expect(parseCacheTo('type=registry,ref=r/c:1,mode=max')).toEqual({
      type: 'registry',
      ref: 'r/c:1',
      mode: 'max',
    })
    const s = resolveSettings(
      { IMAGESPEC_CACHE_FROM: 'a:1;b:2', IMAGESPEC_CACHE_TO: 'type=inline' },
      { cacheFrom: ['c:3'] },
    )
    expect([s.cacheFrom, s.cacheTo]).toEqual([
      [{ type: 'registry', ref: 'c:3' }],
      [{ type: 'inline' }],
    ])
    expect(resolveSettings({})).toMatchObject({ cacheFrom: [], cacheTo: [] })
  })

  it.each([
    [
      'from',
      'type=local,src=/tmp/c',
      'Invalid --cache-from "type=local,src=/tmp/c": type "local" is not supported (only registry)',
    ],
    ['from', 'type=registry', 'Invalid --cache-from "type=registry": ref= is missing'],
    [
      'from',
      'type=registry,ref=a,oops',
      'Invalid --cache-from "type=registry,ref=a,oops": "oops" is not key=value',
    ],
    [
      'to',
      'type=gha',
      'Invalid --cache-to "type=gha": type "gha" is not supported (inline or registry)',
    ],
    [
      'to',
      'type=registry,ref=a,mode=all',
      'Invalid --cache-to "type=registry,ref=a,mode=all": mode must be min or max',
    ],
    [
      'to',
      'type=inline,ref=a',
      'Invalid --cache-to "type=inline,ref=a": type=inline takes no ref or mode',
    ],
  ])('refuses --cache-%s %s with one line (E_USAGE)', (which, value, message) => {
    const parse = which === 'from' ? parseCacheFrom : parseCacheTo
    expect(() => parse(value)).toThrow(expect.objectContaining({ code: 'E_USAGE', message }))
  })

  it('names the environment variable a bad value came from', () => {
    expect(() => resolveSettings({ IMAGESPEC_CACHE_FROM: 'type=local,src=/tmp/c' })).toThrow(
      expect.objectContaining({
        code: 'E_USAGE',
        message:
          'Invalid IMAGESPEC_CACHE_FROM "type=local,src=/tmp/c": type "local" is not supported (only registry)',
      }),
    )
    expect(() => resolveSettings({ IMAGESPEC_CACHE_TO: 'type=gha' })).toThrow(
      expect.objectContaining({
        message:
          'Invalid IMAGESPEC_CACHE_TO "type=gha": type "gha" is not supported (inline or registry)',
      }),
    )
  })
})

describe('third-party builders', () => {
  const dir = path.join(scratch, 'plugins')
  mkdirSync(path.join(dir, 'node_modules/imagespec-builder-fake'), { recursive: true })
  const pluginSource = (name: string) =>
    `export default (opts) => ({ name: ${JSON.stringify(name)}, contractVersion: 1, priority: 7,
       capabilities: { cacheMounts: false, secrets: false, multiPlatform: false, push: false },
       async build(req) { return { imageName: 'loaded/' + req.imageName } } })\n`
  writeFileSync(path.join(dir, 'my-builder.mjs'), pluginSource('mine'))
  writeFileSync(path.join(dir, 'bad-builder.mjs'), 'export default { name: "bad", build: 1 }\n')
  writeFileSync(path.join(dir, 'broken-builder.mjs'), 'throw new Error("boom")\n')
  writeFileSync(
    path.join(dir, 'node_modules/imagespec-builder-fake/package.json'),
    JSON.stringify({
      name: 'imagespec-builder-fake',
      type: 'module',
      exports: { '.': { import: './index.js' } },
    }),
  )
  writeFileSync(
    path.join(dir, 'node_modules/imagespec-builder-fake/index.js'),
    pluginSource('fake'),
  )

  it('loads a module path and an ESM-only package, unwrapping the default export factory', async () => {
    const engine = createEngine()
    expect((await engine.loadBuilder('./my-builder.mjs', [dir])).name).toBe('mine')
    expect((await engine.loadBuilder('imagespec-builder-fake', [scratch, dir])).name).toBe('fake')
    expect(engine.builders().get('fake')?.priority).toBe(7)
  })

  it("loads the builder a spec names, from the spec file's directory", async () => {
    const engine = createEngine({ exists: answer('missing'), lockDir })
    const loaded = specFromObject(
      { name: 'p', python_version: '3.11', builder: './my-builder.mjs' },
      { cwd: dir },
    )
    const outcome = await engine.build(loaded)
    expect(outcome.builder).toBe('mine')
    expect(outcome.realName).toBe(`loaded/${outcome.imageName}`)
  })

  it('rejects invalid and broken modules with E_BUILDER_INVALID', async () => {
    const engine = createEngine()
    await expect(engine.loadBuilder('./bad-builder.mjs', [dir])).rejects.toMatchObject({
      code: 'E_BUILDER_INVALID',
    })
    await expect(engine.loadBuilder('./broken-builder.mjs', [dir])).rejects.toMatchObject({
      code: 'E_BUILDER_INVALID',
      cause: expect.objectContaining({ message: 'boom' }),
    })
    await expect(engine.loadBuilder('./missing.mjs', [dir])).rejects.toMatchObject({
      code: 'E_BUILDER_NOT_FOUND',
    })
  })

  it('defineBuilder returns the factory', () => {
    const factory = defineBuilder((o: { n: string }) => recorder(o.n).plugin)
    expect(factory({ n: 'z' }).name).toBe('z')
  })
})

describe('per-machine lock', () => {
  it('two concurrent builds of one image build once (the second re-checks after the lock)', async () => {
    let exists = false
    const r = recorder('slow', {
      async build() {
        await new Promise((res) => setTimeout(res, 300))
        exists = true
        r.calls.push({ image: 'x', base: null })
        return {}
      },
    })
    const make = () => {
      const engine = createEngine({
        exists: async () => ({ status: exists ? 'exists' : 'missing' }),
        lockDir,
      })
      engine.register(r.plugin)
      return engine
    }
    const loaded = spec({ name: 'locked', builder: 'slow' })
    const [a, b] = await Promise.all([make().build(loaded), make().build(loaded)])
    expect(r.calls).toHaveLength(1)
    expect([a.build, b.build].sort()).toEqual([false, true])
  })

  it('serializes holders of the same image name', async () => {
    const order: string[] = []
    const hold = (tag: string) =>
      withImageLock(
        'img:1',
        async () => {
          order.push(`${tag}+`)
          await new Promise((res) => setTimeout(res, 50))
          order.push(`${tag}-`)
        },
        { dir: lockDir },
      )
    await Promise.all([hold('a'), hold('b')])
    expect(order.join(' ')).toMatch(/^(a\+ a- b\+ b-|b\+ b- a\+ a-)$/)
  })

  it('lives in a per-user 0700 directory (XDG_RUNTIME_DIR, else the user cache), never a shared /tmp path', async () => {
    expect(defaultLockDir({ XDG_RUNTIME_DIR: '/run/user/7' })).toBe('/run/user/7/imagespec/locks')
    expect(defaultLockDir({ HOME: '/home/u' })).toBe('/home/u/.cache/imagespec/locks')
    expect(defaultLockDir({ HOME: '/home/u', XDG_CACHE_HOME: '/c' })).toBe('/c/imagespec/locks')
    const dir = path.join(scratch, 'fresh-locks')
    await withImageLock(
      'img:mode',
      async () => {
        expect(statSync(dir).mode & 0o777).toBe(0o700)
        expect(readdirSync(dir)).toHaveLength(1)
      },
      { dir },
    )
    expect(readdirSync(dir)).toEqual([]) // the lock file is removed
  })

  it('takes over the lock of a killed holder at once (its pid is gone, or reused by another process)', async () => {
    const dir = path.join(scratch, 'stale-locks')
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!
    for (const owner of [`${dead}\nimg:stale\n`, `${process.pid} 1\nimg:stale\n`]) {
      // The file a holder would leave behind when killed: a dead pid, or a live pid with another start time.
      let file = ''
      await withImageLock(
        'img:stale',
        async () => {
          file = path.join(dir, readdirSync(dir)[0])
        },
        { dir },
      )
      writeFileSync(file, owner)
      const t0 = Date.now()
      const waited = await withImageLock('img:stale', async (w) => w, { dir })
      expect(waited).toBe(true)
      expect(Date.now() - t0).toBeLessThan(2000)
      expect(readdirSync(dir)).toEqual([])
    }
  })

  it('never follows a symlink planted as the lock file', async () => {
    const dir = path.join(scratch, 'link-locks')
    let file = ''
    await withImageLock(
      'img:link',
      async () => {
        file = path.join(dir, readdirSync(dir)[0])
      },
      { dir },
    )
    const victim = path.join(scratch, 'victim.txt')
    writeFileSync(victim, 'keep\n')
    symlinkSync(victim, file)
    await withImageLock('img:link', async () => undefined, { dir })
    expect(readFileSync(victim, 'utf8')).toBe('keep\n')
    expect(readdirSync(dir)).toEqual([])
  })
})
