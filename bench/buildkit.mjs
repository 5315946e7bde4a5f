#!/usr/bin/env node
// Benchmark of BUILDKIT_HOST (BuildKit's control API on the engine's /grpc) against the Engine API path (/build), in
// one run, with the CLI binary, the real engine, a registry and a package index started here:
//   engine cold / source   a cold build and a source-only rebuild through the Engine API (no BUILDKIT_HOST)
//   grpc cold / source     the same through BUILDKIT_HOST=dockerd+unix:///var/run/docker.sock
//   (the four interleave, one of each per round, so machine load hits them alike; every cold build starts from an
//   empty build cache: `docker builder prune -af` first, untimed)
//   pruned cold            a cold build (--cache-to type=inline, pushed) right after `docker builder prune -af`
//   pruned cache-from      a source-only rebuild after the image is removed and the engine pruned again, with
//                          --cache-from type=registry,ref=<the cold image> (the pip layer comes from the registry)
// Every project builds FROM a base image of this run's own (one extra layer on the offline base): BuildKit merges
// the identical steps of builds running at the same moment on the engine, and a step merged into someone else's
// build does not use this build's --cache-from (the flytekit preamble `RUN useradd …` is the same in every build).
// `docker builder prune -af` empties the whole engine's build cache: other users of the engine lose cache (never
// correctness). Needs the built CLI (`pnpm build`). Run: `node bench/buildkit.mjs [n]` (default 2 rounds).
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import path from 'node:path'
import { median } from './_common.mjs'
import { runUnderTsx } from './_under-tsx.mjs'

runUnderTsx(import.meta.url)

const { startBuildBench } = await import('./_build-setup.mjs')
const bench = await startBuildBench('bench-bk', { uniqueBase: true })
// the Engine API path is the one without BUILDKIT_HOST
delete bench.env.BUILDKIT_HOST
const N = Number(process.argv[2] ?? 2)
const GRPC = { BUILDKIT_HOST: 'dockerd+unix:///var/run/docker.sock' }
const docker = (...args) => {
  const r = spawnSync('/usr/bin/docker', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}
const build = (spec, extraEnv = {}, ...args) => bench.build(spec, extraEnv, ...args)
const fmtLoad = (l) => l.map((x) => x.toFixed(2)).join(' ')
const project = (key) => bench.project(key)
const edit = (p, i) => writeFileSync(path.join(p.dir, 'src/app/__init__.py'), `VALUE = ${i + 1}\n`)
const nameOf = (p) => bench.nameOf(p)
function expectBuilt(r, what) {
  if (!r.stdout.includes('not found. building...'))
    throw new Error(`${what} did not build:\n${r.stdout}\n${r.stderr}`)
}

const t = {
  engineCold: [],
  engineSource: [],
  grpcCold: [],
  grpcSource: [],
  prunedCold: [],
  prunedFrom: [],
}
let cachedSteps = 0
const loadBefore = loadavg()
try {
  // Untimed warm-up: the first push of a run uploads the base image's layers (75 MB) to this run's fresh registry, about
  // 11 s that would land on whichever cold build came first (the Engine API one); later pushes find them there.
  await build(project('warmup').spec)
  for (let i = 0; i < N; i++) {
    for (const [kind, extra] of [
      ['engine', {}],
      ['grpc', GRPC],
    ]) {
      const p = project(`${kind}${i}`)
      docker('builder', 'prune', '-af')
      const cold = await build(p.spec, extra)
      expectBuilt(cold, `${kind} cold`)
      t[`${kind}Cold`].push(cold.ms)
      edit(p, i)
      t[`${kind}Source`].push((await build(p.spec, extra)).ms)
    }
    const p = project(`pruned${i}`)
    docker('builder', 'prune', '-af')
    const cold = await build(p.spec, { ...GRPC, IMAGESPEC_CACHE_TO: 'type=inline' })
    expectBuilt(cold, 'pruned cold')
    t.prunedCold.push(cold.ms)
    const first = await nameOf(p)
    docker('image', 'rm', first)
    docker('builder', 'prune', '-af')
    edit(p, i)
    const warm = await build(p.spec, GRPC, '--cache-from', `type=registry,ref=${first}`)
    expectBuilt(warm, 'cache-from rebuild')
    if (!warm.stderr.includes(`importing cache manifest from ${first}`))
      throw new Error(`the cache-from rebuild did not import ${first}:\n${warm.stderr}`)
    const install = warm.stderr
      .split('\n')
      .filter((l) => l.endsWith(' CACHED') && l.includes('pip install'))
    if (!install.length)
      throw new Error(`the cache-from rebuild re-ran the pip install:\n${warm.stderr}`)
    cachedSteps += install.length
    t.prunedFrom.push(warm.ms)
  }
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]))
  console.log(
    `\nBUILDKIT_HOST benchmark (medians of ${N}; load average ${fmtLoad(loadBefore)} at the start, ${fmtLoad(loadavg())} at the end)`,
  )
  const rows = [
    ['cold build, Engine API (/build)', m.engineCold],
    ['cold build, BUILDKIT_HOST (/grpc)', m.grpcCold],
    ['source-only rebuild, Engine API', m.engineSource],
    ['source-only rebuild, BUILDKIT_HOST', m.grpcSource],
    ['cold build on a pruned engine', m.prunedCold],
    ['cache-from rebuild on a pruned engine', m.prunedFrom],
  ]
  for (const [name, ms] of rows) console.log(`  ${name.padEnd(40)} ${ms.toFixed(1).padStart(9)} ms`)
  const ratio = (a, b, what) =>
    console.log(`  ${what.padEnd(40)} ${(a / b).toFixed(2).padStart(9)} x`)
  ratio(m.grpcCold, m.engineCold, 'cold: BUILDKIT_HOST / Engine API')
  ratio(m.grpcSource, m.engineSource, 'source-only: BUILDKIT_HOST / Engine API')
  ratio(m.prunedFrom, m.prunedCold, 'pruned: cache-from rebuild / cold')
  console.log(
    `  (the pip install step was CACHED in every cache-from rebuild: ${cachedSteps} of ${N})`,
  )
} finally {
  await bench.stop()
}
