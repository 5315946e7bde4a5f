#!/usr/bin/env node
// Benchmark of @imagespec/registry (issue 4), one run: `node bench/registry.mjs` after
// `pnpm nx run @imagespec/registry:build`. Starts its own docker-registry on loopback, uploads a tiny image through the
// registry API, and prints medians, ratios and targets:
//   (a) one in-process probe vs a raw keep-alive `http.request` HEAD       target <= 1.2x
//   (b) 50 references (50 tags of one repository) in one probeMany call vs one probe      target <= 2x
//       by default (every `exists` with its digest: one tag list, then a HEAD per present tag), and existence only
//       (`digests: false`: the tag list alone), on loopback and through a delay proxy that puts the registry 50 ms
//       away
//   (c) the whole process `imagespec exists --ref` vs `node -e 0`          target <= 1.6x
//       and vs docker-py `images.get_registry_data` (python3-docker)       target <= 0.6x
// Env: BENCH_ITERATIONS (default 300 in-process, a tenth of it for processes).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as http from 'node:http'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startBenchRegistry, startDelayProxy, uploadTinyImage } from './registry-server.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'packages/registry/dist/index.js')
const cliBin = join(root, 'packages/cli/dist/bin.cjs')
// The binary's V8 code cache, fresh for this run (its first run, the readiness check below, writes it).
process.env.IMAGESPEC_COMPILE_CACHE = mkdtempSync(join(tmpdir(), 'imagespec-bench-cache-'))
process.on('exit', () =>
  rmSync(process.env.IMAGESPEC_COMPILE_CACHE, { recursive: true, force: true }),
)
if (!existsSync(dist)) {
  console.error('Build first: pnpm nx run @imagespec/registry:build')
  process.exit(1)
}
const { createProbe } = await import(dist)
const N = Number(process.env.BENCH_ITERATIONS ?? 300)
const NP = Math.max(10, Math.round(N / 10))

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
async function time(fn) {
  const t = performance.now()
  await fn()
  return performance.now() - t
}
/** Runs the contenders alternately (so drift on a shared machine hits both alike) and returns their medians. */
async function interleaved(iterations, contenders) {
  const samples = contenders.map(() => [])
  for (let i = 0; i < iterations; i++)
    for (const [k, fn] of contenders.entries()) samples[k].push(await time(fn))
  return samples.map(median)
}

const registry = await startBenchRegistry()
const rows = []
try {
  const repo = 'bench/tiny'
  const digest = await uploadTinyImage(
    registry.url,
    repo,
    Array.from({ length: 50 }, (_, i) => `t${i}`),
  )
  const ref = `${registry.host}/${repo}:t0`
  const refs = Array.from({ length: 50 }, (_, i) => `${registry.host}/${repo}:t${i}`)

  // (a) in-process probe vs raw HEAD, both warm and kept alive
  const prober = createProbe()
  const first = await prober.probe(ref)
  if (first.status !== 'exists' || first.digest !== digest)
    throw new Error(`unexpected answer ${JSON.stringify(first)}`)
  const agent = new http.Agent({ keepAlive: true })
  const accept =
    'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json'
  const rawHead = () =>
    new Promise((res, rej) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: registry.port,
          method: 'HEAD',
          path: `/v2/${repo}/manifests/t0`,
          agent,
          headers: { accept },
        },
        (r) => {
          r.resume()
          r.on('end', () => (r.statusCode === 200 ? res() : rej(new Error(`HTTP ${r.statusCode}`))))
        },
      )
      req.on('error', rej)
      req.end()
    })
  for (let i = 0; i < 50; i++) await Promise.all([rawHead(), prober.probe(ref)]) // warm-up
  const [probeMs, rawMs] = await interleaved(N, [() => prober.probe(ref), rawHead])
  rows.push(['(a) in-process probe', probeMs, 'raw http HEAD', rawMs, 1.2])

  // (b) 50 references in one call vs one probe
  const many = await prober.probeMany(refs)
  if (!many.every((a) => a.status === 'exists' && a.digest === digest))
    throw new Error('probeMany: not all found')
  const existence = await prober.probeMany(refs, { digests: false })
  if (!existence.every((a) => a.status === 'exists'))
    throw new Error('probeMany digests: false: not all found')
  const [manyMs, existMs, oneMs] = await interleaved(Math.max(30, Math.round(N / 5)), [
    () => prober.probeMany(refs),
    () => prober.probeMany(refs, { digests: false }),
    () => prober.probe(ref),
  ])
  rows.push(['(b) probeMany x50 (with digests)', manyMs, 'one probe', oneMs, 2])
  rows.push(['(b) probeMany x50, digests: false', existMs, 'one probe', oneMs, 2])
  // The floor on loopback: the registry's own throughput (50 raw HEADs at once vs one).
  const [rawManyMs, rawOneMs] = await interleaved(Math.max(30, Math.round(N / 5)), [
    () => Promise.all(refs.map(() => rawHead())),
    rawHead,
  ])
  rows.push(['    floor: 50 raw HEADs at once', rawManyMs, 'one raw HEAD', rawOneMs, 2])
  prober.close()
  agent.destroy()
  // The same through a proxy adding 25 ms each way (50 ms RTT), as a registry across a network; also with a prober of
  // concurrency 50 (50 sockets: all 50 HEADs in one round trip; the default 32 takes two).
  const proxy = await startDelayProxy(registry.port, 25)
  try {
    const far = createProbe()
    const far50 = createProbe({ concurrency: 50 })
    const farRefs = refs.map((r) => r.replace(registry.host, proxy.host))
    await Promise.all([
      far.probeMany(farRefs),
      far50.probeMany(farRefs),
      far.probeMany(farRefs, { digests: false }),
    ])
    const [farManyMs, farMany50Ms, farExistMs, farOneMs] = await interleaved(20, [
      () => far.probeMany(farRefs),
      () => far50.probeMany(farRefs),
      () => far.probeMany(farRefs, { digests: false }),
      () => far.probe(farRefs[0]),
    ])
    rows.push([
      '(b) probeMany x50 (with digests), 50 ms RTT',
      farManyMs,
      'one probe, 50 ms RTT',
      farOneMs,
      2,
    ])
    rows.push([
      '(b) probeMany x50 (with digests), 50 ms RTT, concurrency 50',
      farMany50Ms,
      'one probe, 50 ms RTT',
      farOneMs,
      2,
    ])
    rows.push([
      '(b) probeMany x50, digests: false, 50 ms RTT',
      farExistMs,
      'one probe, 50 ms RTT',
      farOneMs,
      2,
    ])
    far.close()
    far50.close()
  } finally {
    proxy.stop()
  }

  // (c) whole process, plus two informational rows that split the cost: this package alone (dist import + one
  // probe) and the import of @imagespec/spec, which every imagespec process loads.
  const probeOnce = [
    process.execPath,
    '--input-type=module',
    '-e',
    `const { probeImage } = await import(${JSON.stringify(dist)}); const a = await probeImage(${JSON.stringify(ref)}); process.exitCode = a.status === 'exists' ? 0 : 1`,
  ]
  const specOnly = [
    process.execPath,
    '--input-type=module',
    '-e',
    `await import(${JSON.stringify(join(root, 'packages/spec/dist/index.js'))})`,
  ]
  const cliReady =
    existsSync(cliBin) && spawnSync(process.execPath, [cliBin, 'exists', '--ref', ref]).status === 0
  const ours = cliReady
    ? { label: 'imagespec exists --ref', argv: [process.execPath, cliBin, 'exists', '--ref', ref] }
    : { label: 'node -e <probe once> (CLI not ready)', argv: probeOnce }
  const py = [
    '/usr/bin/python3',
    '-c',
    `import docker; docker.from_env().images.get_registry_data(${JSON.stringify(ref)})`,
  ]
  const pyReady = spawnSync(py[0], py.slice(1)).status === 0
  const runProcess = (argv) => () => {
    const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' })
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited with ${r.status}`)
  }
  const contenders = [
    ours.argv,
    [process.execPath, '-e', '0'],
    probeOnce,
    specOnly,
    ...(pyReady ? [py] : []),
  ]
  const [oursMs, nodeMs, probeOnceMs, specMs, pyMs] = await interleaved(
    NP,
    contenders.map(runProcess),
  )
  rows.push([`(c) ${ours.label}`, oursMs, 'node -e 0', nodeMs, 1.6])
  rows.push([
    `(c) ${ours.label}`,
    oursMs,
    pyReady ? 'docker-py get_registry_data' : 'docker-py (not available)',
    pyMs ?? NaN,
    0.6,
  ])
  if (cliReady)
    rows.push([
      '    info: node -e <registry dist, probe once>',
      probeOnceMs,
      'node -e 0',
      nodeMs,
      1.6,
    ])
  rows.push(['    info: node -e <import @imagespec/spec>', specMs, 'node -e 0', nodeMs, NaN])
} finally {
  await registry.stop()
}

const header = ['measure', 'median ms', 'baseline', 'median ms', 'ratio', 'target', 'result']
const table = rows.map(([name, ms, base, baseMs, target]) => {
  const ratio = ms / baseMs
  return [
    name,
    ms.toFixed(2),
    base,
    baseMs.toFixed(2),
    ratio.toFixed(2) + 'x',
    Number.isFinite(target) ? `<= ${target}x` : '-',
    Number.isFinite(ratio) && Number.isFinite(target) ? (ratio <= target ? 'pass' : 'FAIL') : '-',
  ]
})
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)))
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ')
console.log(
  `registry bench: ${N} in-process iterations, ${NP} process runs, node ${process.version}, ${execFileSync('nproc').toString().trim()} cpus`,
)
console.log(line(header))
for (const r of table) console.log(line(r))
