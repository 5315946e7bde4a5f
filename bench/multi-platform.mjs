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
//   uploads   what the cold build sent to the registry: bytes and blob PUTs of completed uploads, and blobs mounted
//             (from the registry's access log; sizes from the blobs). `cold` takes its base from the loopback
//             registry on :5000, another registry, so every base layer is uploaded; `cold, base mounted` is one more
//             cold build (an image name of its own) whose base is a copy in the same registry, whose layers the push
//             relay mounts instead
// Needs the built CLI (`pnpm build`), a Docker engine, arm64 emulation and the two-platform base in the loopback
// registry (services.sh). Run: `node bench/multi-platform.mjs [n]` (n cold builds; default 1: each takes minutes).
import { loadavg } from 'node:os'
import path from 'node:path'
import { median, timed as timedWith } from './_common.mjs'
import { repo, runUnderTsx } from './_under-tsx.mjs'

runUnderTsx(import.meta.url)

const { startBuildBench } = await import('./_build-setup.mjs')
const { copyImage } = await import(path.join(repo, 'tools/test-utils/src/index.ts'))
const bench = await startBuildBench('bench-mp', { multiPlatform: true })
const { registry } = bench
const N = Number(process.argv[2] ?? 1)
const FAST_N = 11
const LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'

const timed = (cmd, args) => timedWith(cmd, args, bench.env)
const build = async (spec, extra = {}) => {
  const r = await bench.build(spec, extra, '--json')
  return { ...r, summary: JSON.parse(r.stdout.trimEnd().split('\n').at(-1)) }
}
const project = (i, options) => bench.project(i, options).spec

/**
 * What pushes into `image`'s repository sent since access-log line `from`: completed blob uploads (their bytes, from
 * each blob's size) and blobs mounted from another repository.
 */
async function uploads(image, from) {
  const repository = image.slice(registry.host.length + 1, image.lastIndexOf(':'))
  const lines = registry.logs().split('\n').slice(from)
  const prefix = `/v2/${repository}/blobs/uploads/`
  const digests = (method, param) =>
    lines
      .filter((l) => l.includes(`"${method} ${prefix}`) && / HTTP\/1\.1" 201 /.test(l))
      .map((l) => decodeURIComponent(new RegExp(`[?&]${param}=([^& ]+)`).exec(l)?.[1] ?? ''))
      .filter(Boolean)
  const size = async (d) =>
    Number(
      (await fetch(`${registry.url}/v2/${repository}/blobs/${d}`, { method: 'HEAD' })).headers.get(
        'content-length',
      ),
    )
  const sum = async (ds) => (await Promise.all(ds.map(size))).reduce((a, b) => a + b, 0)
  const put = digests('PUT', 'digest')
  const mounted = digests('POST', 'mount')
  return {
    puts: put.length,
    bytes: await sum(put),
    mounts: mounted.length,
    mountedBytes: await sum(mounted),
  }
}
const logLines = () => registry.logs().split('\n').length - 1

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
let sent
try {
  for (let i = 0; i < N; i++) {
    const spec = project(i)
    const mark = logLines()
    const c = await build(spec)
    if (Object.values(c.summary.platforms).some((p) => p.status !== 'built'))
      throw new Error(`cold build did not build both:\n${c.stdout}`)
    cold.push(c.ms)
    if (i === 0) sent = await uploads(c.summary.image, mark)
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
  // One more cold build, its base a copy in the same registry: the relay mounts the base layers. An image name of its
  // own: the first cold build's repository holds the base layers already (uploaded there).
  const sameBase = await copyImage(bench.base, `${registry.host}/imagespec/python-base:3.11`)
  const markMounted = logLines()
  const cm = await build(project('mounted', { base: sameBase, name: 'bench-mp-mounted' }))
  if (Object.values(cm.summary.platforms).some((p) => p.status !== 'built'))
    throw new Error(`cold build (base mounted) did not build both:\n${cm.stdout}`)
  const sentMounted = await uploads(cm.summary.image, markMounted)
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
    ['cold, base mounted', cm.ms, 1],
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
  const mb = (b) => (b / 1e6).toFixed(1).padStart(7)
  for (const [name, u] of [
    ['uploads, cold (base elsewhere)', sent],
    ['uploads, cold (base mounted)', sentMounted],
  ])
    console.log(
      `  ${name.padEnd(34)} ${mb(u.bytes)} MB in ${u.puts} blob PUTs; ${u.mounts} mounted (${mb(u.mountedBytes).trim()} MB)`,
    )
  console.log(
    `  uploaded, mounted / elsewhere      ${((sentMounted.bytes / sent.bytes) * 100).toFixed(1).padStart(8)} %`,
  )
  const r = m.skip / m.node
  console.log(
    `  skip / node -e 0                   ${r.toFixed(2).padStart(9)} x   target <= 1.6x  ${r <= 1.6 ? 'OK' : 'MISSED'}`,
  )
} finally {
  await bench.stop()
}
