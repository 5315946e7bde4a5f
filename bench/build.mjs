#!/usr/bin/env node
// Benchmark of `imagespec build` against the real engine, a registry and a package index started here, in one run:
//   cold      a build of a spec never built before (a fresh env value invalidates every layer after the base setup)
//   source    the rebuild after editing only a source file (target: <= 15% of cold)
//   built     `imagespec build` of a spec whose image is already in the registry (target: <= 1.6x `node -e 0`)
//   node      `node -e 0`
// and, interleaved with those two (one round runs each once, so machine load hits them alike), the CLI's other quick
// paths: `--version`, `name <spec>`, `exists --ref <ref>` and `exists <spec>` (the last two: target <= 1.6x too).
// Needs the built CLI (`pnpm build`), a Docker engine and /usr/bin/docker-registry. Run: `node bench/build.mjs [n]`.
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { median, timed as timedIn } from './_common.mjs'
import { repo, runUnderTsx } from './_under-tsx.mjs'

runUnderTsx(import.meta.url)

const bin = path.join(repo, 'packages/cli/dist/bin.cjs')
if (!existsSync(bin)) {
  console.error(`bench: ${bin} is missing; run \`pnpm build\` first`)
  process.exit(1)
}
const { ensureBaseImage, startRegistry, startPackageIndex, TEST_LABEL } = await import(
  path.join(repo, 'tools/test-utils/src/index.ts')
)

const N = Number(process.argv[2] ?? 3)
const FAST_N = 3 * N + 2
const FLYTEKIT = '1.16.24'
const runId = randomUUID()
const env = {
  ...process.env,
  IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
  IMAGESPEC_BUILD_NETWORK: 'host',
  IMAGESPEC_FLYTEKIT_VERSION: FLYTEKIT,
  NO_COLOR: '1',
  // The binary's V8 code cache, fresh for this run: the first run of each command writes it (those runs are the
  // warm-up of the quick paths below and the cold builds).
  IMAGESPEC_COMPILE_CACHE: mkdtempSync(path.join(tmpdir(), 'imagespec-bench-cache-')),
}

const timed = (cmd, args) => timedIn(cmd, args, env)
const build = (spec) => timed(process.execPath, [bin, 'build', spec, '--progress', 'plain', '--label', `${TEST_LABEL}=${runId}`])

const base = await ensureBaseImage()
const registry = await startRegistry()
const index = await startPackageIndex([
  { name: 'imagespec-bench-dep', version: '1.0.0', files: { 'bench_dep/__init__.py': 'X = 1\n' } },
  { name: 'flytekit', version: FLYTEKIT, files: { 'flytekit/__init__.py': `__version__ = "${FLYTEKIT}"\n` } },
])
const work = mkdtempSync(path.join(tmpdir(), 'imagespec-bench-'))

function project(i) {
  const dir = path.join(work, `p${i}`)
  mkdirSync(path.join(dir, 'src/app'), { recursive: true })
  writeFileSync(path.join(dir, 'src/app/__init__.py'), 'VALUE = 0\n')
  writeFileSync(
    path.join(dir, 'imagespec.yaml'),
    [
      'name: bench',
      `registry: ${registry.host}`,
      `base_image: ${base}`,
      'python_version: "3.11"',
      'packages: [imagespec-bench-dep]',
      `pip_index: ${index.url}`,
      'pip_extra_args: --trusted-host 127.0.0.1',
      'source_root: src',
      'source_copy_mode: all',
      'builder_options: {installer: pip}',
      `env: {BENCH_RUN: "${runId}-${i}"}`,
    ].join('\n') + '\n',
  )
  return { dir, spec: path.join(dir, 'imagespec.yaml') }
}

const cold = []
const source = []
let last
try {
  for (let i = 0; i < N; i++) {
    const p = project(i)
    const c = await build(p.spec)
    if (!c.stdout.includes('not found. building...')) throw new Error(`cold build did not build:\n${c.stdout}`)
    cold.push(c.ms)
    writeFileSync(path.join(p.dir, 'src/app/__init__.py'), `VALUE = ${i + 1}\n`)
    source.push((await build(p.spec)).ms)
    last = p
  }
  const ref = (await timed(process.execPath, [bin, 'name', last.spec])).stdout.trim()
  const quick = [
    ['already built (imagespec build)', () => build(last.spec), 'found. Skip building.'],
    ['node -e 0', () => timed(process.execPath, ['-e', '0'])],
    ['imagespec --version', () => timed(process.execPath, [bin, '--version'])],
    ['imagespec name <spec>', () => timed(process.execPath, [bin, 'name', last.spec]), ref],
    ['imagespec exists --ref <ref>', () => timed(process.execPath, [bin, 'exists', '--ref', ref]), 'exists '],
    ['imagespec exists <spec>', () => timed(process.execPath, [bin, 'exists', last.spec]), 'exists '],
  ]
  const times = quick.map(() => [])
  for (let i = 0; i < FAST_N; i++) {
    for (const [k, [name, run, expect]] of quick.entries()) {
      const r = await run()
      if (expect && !r.stdout.includes(expect)) throw new Error(`${name}: expected "${expect}" in:\n${r.stdout}`)
      times[k].push(r.ms)
    }
  }
  const m = { cold: median(cold), source: median(source) }
  const [built, node, ...others] = times.map(median)
  const rows = [
    ['cold build', m.cold, N],
    ['source-only rebuild', m.source, N],
    [quick[0][0], built, FAST_N],
    [quick[1][0], node, FAST_N],
    ...others.map((ms, k) => [quick[k + 2][0], ms, FAST_N]),
  ]
  console.log(`\nimagespec build benchmark (medians; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`)
  for (const [name, ms, n] of rows) console.log(`  ${name.padEnd(34)} ${ms.toFixed(1).padStart(9)} ms   (n=${n})`)
  const r1 = m.source / m.cold
  console.log(`  source-only / cold                 ${(r1 * 100).toFixed(1).padStart(8)} %   target <= 15%   ${r1 <= 0.15 ? 'OK' : 'MISSED'}`)
  for (const [name, ms] of [['already built', built], ['exists --ref', others[2]], ['exists <spec>', others[3]]]) {
    const r = ms / node
    console.log(`  ${`${name} / node -e 0`.padEnd(34)} ${r.toFixed(2).padStart(9)} x   target <= 1.6x  ${r <= 1.6 ? 'OK' : 'MISSED'}`)
  }
} finally {
  const ids = spawnSync('/usr/bin/docker', ['image', 'ls', '-q', '--filter', `label=${TEST_LABEL}=${runId}`], { encoding: 'utf8' })
    .stdout.split('\n').filter(Boolean)
  if (ids.length) spawnSync('/usr/bin/docker', ['image', 'rm', '-f', ...new Set(ids)], { stdio: 'ignore' })
  await registry.stop()
  await index.stop()
  rmSync(work, { recursive: true, force: true })
  rmSync(env.IMAGESPEC_COMPILE_CACHE, { recursive: true, force: true })
}
