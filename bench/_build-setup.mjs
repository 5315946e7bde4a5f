// What the build benchmarks share: the built CLI, a registry and a package index started here, the offline base
// image (or the two-platform one), a fresh code cache, projects (a spec with one index package and a small source
// tree, or a two-platform spec), a timed `imagespec build`, and the clean-up.
// Import it after `runUnderTsx(import.meta.url)` (it loads the test utilities' TypeScript).
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { timed } from './_common.mjs'
import { repo } from './_under-tsx.mjs'

/**
 * Starts the services of a build benchmark whose specs are named `name`. With `multiPlatform`, the base is the
 * two-platform one (services.sh) and each project builds linux/amd64 and linux/arm64 (no index package, no sources).
 * With `uniqueBase`, the projects build FROM a base image of this run's own (test-utils' uniqueBaseImage), so that no
 * step is shared with a build someone else runs on the engine at the same moment (BuildKit merges those, and a merged
 * step ignores this build's --cache-from).
 */
export async function startBuildBench(name, { multiPlatform = false, uniqueBase = false } = {}) {
  const bin = path.join(repo, 'packages/cli/dist/bin.cjs')
  if (!existsSync(bin)) {
    console.error(`bench: ${bin} is missing; run \`pnpm build\` first`)
    process.exit(1)
  }
  const {
    ensureBaseImage,
    ensureMultiPlatformBase,
    flytekitStub,
    FLYTEKIT_VERSION,
    startRegistry,
    startPackageIndex,
    TEST_LABEL,
    uniqueBaseImage,
  } = await import(path.join(repo, 'tools/test-utils/src/index.ts'))
  const runId = randomUUID()
  const env = {
    ...process.env,
    IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
    IMAGESPEC_BUILD_NETWORK: 'host',
    IMAGESPEC_FLYTEKIT_VERSION: FLYTEKIT_VERSION,
    NO_COLOR: '1',
  }
  const base = multiPlatform
    ? await ensureMultiPlatformBase()
    : uniqueBase
      ? await uniqueBaseImage(runId, TEST_LABEL)
      : await ensureBaseImage()
  const registry = await startRegistry()
  let index
  try {
    index = await startPackageIndex([
      {
        name: 'imagespec-bench-dep',
        version: '1.0.0',
        files: { 'bench_dep/__init__.py': 'X = 1\n' },
      },
      flytekitStub(FLYTEKIT_VERSION),
    ])
  } catch (e) {
    await registry.stop()
    throw e
  }
  // The binary's V8 code cache, fresh for this run: the first run of each command writes it. Made once the services
  // run, so that a setup that fails leaves nothing behind (stop() removes both directories).
  env.IMAGESPEC_COMPILE_CACHE = mkdtempSync(path.join(tmpdir(), 'imagespec-bench-cache-'))
  const work = mkdtempSync(path.join(tmpdir(), 'imagespec-bench-'))
  const label = `${TEST_LABEL}=${runId}`
  return {
    bin,
    /** The environment of every CLI run (delete a key here to leave it out of `build`, too). */
    env,
    runId,
    label,
    registry,
    /** The base image of the projects. */
    base,
    /**
     * A project `p<key>` whose spec is unique to this run and key (a fresh env value: every layer after the base);
     * `options` may name another image name (`name`) or base image (`base`).
     */
    project(key, options = {}) {
      const dir = path.join(work, `p${key}`)
      mkdirSync(path.join(dir, 'src/app'), { recursive: true })
      writeFileSync(path.join(dir, 'src/app/__init__.py'), 'VALUE = 0\n')
      writeFileSync(
        path.join(dir, 'imagespec.yaml'),
        [
          `name: ${options.name ?? name}`,
          `registry: ${registry.host}`,
          `base_image: ${options.base ?? base}`,
          'python_version: "3.11"',
          ...(multiPlatform
            ? ['platform: linux/amd64,linux/arm64']
            : ['packages: [imagespec-bench-dep]']),
          `pip_index: ${index.url}`,
          'pip_extra_args: --trusted-host 127.0.0.1',
          ...(multiPlatform ? [] : ['source_root: src', 'source_copy_mode: all']),
          'builder_options: {installer: pip}',
          `env: {BENCH_RUN: "${runId}-${key}"}`,
        ].join('\n') + '\n',
      )
      return { dir, spec: path.join(dir, 'imagespec.yaml') }
    },
    /**
     * `imagespec build <spec> --progress plain --label <label> [args]`, timed, run from the spec's folder (relative
     * paths in a spec resolve from the working directory, flytekit's rule), with `extraEnv` over `env`.
     */
    build(spec, extraEnv = {}, ...args) {
      return timed(
        process.execPath,
        [
          bin,
          '-C',
          path.dirname(spec),
          'build',
          spec,
          '--progress',
          'plain',
          '--label',
          label,
          ...args,
        ],
        { ...env, ...extraEnv },
      )
    },
    /** The image name of a project (`imagespec name`). */
    async nameOf({ dir, spec }) {
      return (await timed(process.execPath, [bin, '-C', dir, 'name', spec], env)).stdout.trim()
    },
    /** Removes the images this run labelled, stops the services, deletes the temporary directories. */
    async stop() {
      const ids = spawnSync(
        '/usr/bin/docker',
        ['image', 'ls', '-q', '--filter', `label=${TEST_LABEL}=${runId}`],
        {
          encoding: 'utf8',
        },
      )
        .stdout.split('\n')
        .filter(Boolean)
      if (ids.length)
        spawnSync('/usr/bin/docker', ['image', 'rm', '-f', ...new Set(ids)], { stdio: 'ignore' })
      await registry.stop()
      await index.stop()
      rmSync(work, { recursive: true, force: true })
      rmSync(env.IMAGESPEC_COMPILE_CACHE, { recursive: true, force: true })
    },
  }
}
