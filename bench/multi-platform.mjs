#!/usr/bin/env node
// Benchmark of multi-platform `imagespec build` (linux/amd64 + linux/arm64, arm64 under QEMU) against the real engine,
// a registry and a package index started here, in one run:
//   cold      a two-platform build of a spec never built before (a fresh env value invalidates the layers after the
//             base setup, on both platforms)
//   missing   the rebuild after the tag's index lost its arm64 child: exactly one platform is built (from the build
//             cache), pushed by digest, and the index put again
//   full      the same tag rebuilt in full (FLYTE_FORCE_PUSH_IMAGE_SPEC=true: both platforms, from the build cache),
//             what a builder without only-missing would do
//   skip      `imagespec build` of a complete two-platform tag (target: <= 1.6x `node -e 0`, as single-platform)
//   node      `node -e 0`, interleaved with `skip` so machine load hits both alike
// Needs the built CLI (`pnpm build`), a Docker engine, arm64 emulation and the two-platform base in the loopback
// registry (services.sh). Run: `node bench/multi-platform.mjs [n]` (n cold builds; default 1: each takes minutes).
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { median, timed as timedWith } from './_common.mjs'
import { repo, runUnderTsx } from './_under-tsx.mjs'

runUnderTsx(import.meta.url)

const bin = path.join(repo, 'packages/cli/dist/bin.cjs')
if (!existsSync(bin)) {
  console.error(`bench: ${bin} is missing; run \`pnpm build\` first`)
  process.exit(1)
}
const { ensureMultiPlatformBase, startRegistry, startPackageIndex, TEST_LABEL } = await import(
  path.join(repo, 'tools/test-utils/src/index.ts')
)

const N = Number(process.argv[2] ?? 1)
const FAST_N = 11
const FLYTEKIT = '1.16.24'
const LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
const runId = randomUUID()
const env = {
  ...process.env,
  IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
  IMAGESPEC_BUILD_NETWORK: 'host',
  IMAGESPEC_FLYTEKIT_VERSION: FLYTEKIT,
  NO_COLOR: '1',
  IMAGESPEC_COMPILE_CACHE: mkdtempSync(path.join(tmpdir(), 'imagespec-bench-cache-')),
}

const timed = (cmd, args, extra = {}) => timedWith(cmd, args, { ...env, ...extra })
const build = async (spec, extra = {}) => {
  const r = await timed(
    process.execPath,
    [bin, 'build', spec, '--json', '--progress', 'plain', '--label', `${TEST_LABEL}=${runId}`],
    extra,
  )
  return { ...r, summary: JSON.parse(r.stdout.trimEnd().split('\n').at(-1)) }
}

const base = await ensureMultiPlatformBase()
const registry = await startRegistry()
const index = await startPackageIndex([
  {
    name: 'flytekit',
    version: FLYTEKIT,
    files: { 'flytekit/__init__.py': `__version__ = "${FLYTEKIT}"\n` },
  },
])
const work = mkdtempSync(path.join(tmpdir(), 'imagespec-bench-mp-'))

function project(i) {
  const dir = path.join(work, `p${i}`)
  mkdirSync(dir, { recursive: true })
  const spec = path.join(dir, 'imagespec.yaml')
  writeFileSync(
    spec,
    [
      'name: bench-mp',
      `registry: ${registry.host}`,
      `base_image: ${base}`,
      'python_version: "3.11"',
      'platform: linux/amd64,linux/arm64',
      `pip_index: ${index.url}`,
      'pip_extra_args: --trusted-host 127.0.0.1',
      'builder_options: {installer: pip}',
      `env: {BENCH_RUN: "${runId}-${i}"}`,
    ].join('\n') + '\n',
  )
  return spec
}

/** Puts the tag's index back with only its amd64 child (the index "lost" arm64). */
async function dropArm64(image) {
  const at = image.lastIndexOf(':')
  const url = `${registry.url}/v2/${image.slice(registry.host.length + 1, at)}/manifests/${image.slice(at + 1)}`
  const doc = await (await fetch(url, { headers: { accept: LIST } })).json()
  const manifests = doc.manifests.filter((m) => m.platform.architecture !== 'arm64')
  const res = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': LIST },
    body: JSON.stringify({ ...doc, manifests }),
  })
  if (res.status !== 201) throw new Error(`index put: HTTP ${res.status}`)
}

const cold = []
const missing = []
const full = []
let last
try {
  for (let i = 0; i < N; i++) {
    const spec = project(i)
    const c = await build(spec)
    if (Object.values(c.summary.platforms).some((p) => p.status !== 'built'))
      throw new Error(`cold build did not build both:\n${c.stdout}`)
    cold.push(c.ms)
    for (let k = 0; k < 3; k++) {
      await dropArm64(c.summary.image)
      const m = await build(spec)
      const p = m.summary.platforms
      if (p['linux/amd64'].status !== 'present' || p['linux/arm64'].status !== 'built')
        throw new Error(`missing rebuild built the wrong platforms:\n${m.stdout}`)
      missing.push(m.ms)
      const f = await build(spec, { FLYTE_FORCE_PUSH_IMAGE_SPEC: 'true' })
      if (Object.values(f.summary.platforms).some((p) => p.status !== 'built'))
        throw new Error(`forced rebuild did not build both:\n${f.stdout}`)
      full.push(f.ms)
    }
    last = spec
  }
  const skip = []
  const node = []
  for (let i = 0; i < FAST_N; i++) {
    const s = await build(last)
    if (s.summary.status !== 'skipped') throw new Error(`skip path built:\n${s.stdout}`)
    skip.push(s.ms)
    node.push((await timed(process.execPath, ['-e', '0'])).ms)
  }
  const m = {
    cold: median(cold),
    missing: median(missing),
    full: median(full),
    skip: median(skip),
    node: median(node),
  }
  console.log(
    `\nimagespec multi-platform benchmark (linux/amd64 + linux/arm64; medians; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
  )
  for (const [name, ms, n] of [
    ['cold two-platform build', m.cold, cold.length],
    ['rebuild of one missing platform', m.missing, missing.length],
    ['full rebuild, both (--force, warm)', m.full, full.length],
    ['complete tag (skip path)', m.skip, skip.length],
    ['node -e 0', m.node, node.length],
  ])
    console.log(`  ${name.padEnd(34)} ${ms.toFixed(1).padStart(9)} ms   (n=${n})`)
  console.log(
    `  missing one / cold                 ${((m.missing / m.cold) * 100).toFixed(1).padStart(8)} %`,
  )
  console.log(
    `  missing one / full rebuild         ${((m.missing / m.full) * 100).toFixed(1).padStart(8)} %`,
  )
  const r = m.skip / m.node
  console.log(
    `  skip / node -e 0                   ${r.toFixed(2).padStart(9)} x   target <= 1.6x  ${r <= 1.6 ? 'OK' : 'MISSED'}`,
  )
} finally {
  const ids = spawnSync(
    '/usr/bin/docker',
    ['image', 'ls', '-q', '--filter', `label=${TEST_LABEL}=${runId}`],
    { encoding: 'utf8' },
  )
    .stdout.split('\n')
    .filter(Boolean)
  if (ids.length)
    spawnSync('/usr/bin/docker', ['image', 'rm', '-f', ...new Set(ids)], { stdio: 'ignore' })
  await registry.stop()
  await index.stop()
  rmSync(work, { recursive: true, force: true })
}
