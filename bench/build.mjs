#!/usr/bin/env node
// Benchmark of `imagespec build` against the real engine, a registry and a package index started here, in one run:
//   cold      a build of a spec never built before (a fresh env value invalidates every layer after the base setup)
//   source    the rebuild after editing only a source file (target: <= 15% of cold)
//   built     `imagespec build` of a spec whose image is already in the registry (target: <= 1.6x `node -e 0`)
//   node      `node -e 0`
// and, interleaved with those two (one round runs each once, so machine load hits them alike), the CLI's other quick
// paths: `--version`, `name <spec>`, `exists --ref <ref>` and `exists <spec>` (the last two: target <= 1.6x too).
// Needs the built CLI (`pnpm build`), a Docker engine and /usr/bin/docker-registry. Run: `node bench/build.mjs [n]`.
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import path from 'node:path'
import { median, timed as timedIn } from './_common.mjs'
import { runUnderTsx } from './_under-tsx.mjs'

runUnderTsx(import.meta.url)

const { startBuildBench } = await import('./_build-setup.mjs')
const bench = await startBuildBench('bench')
const { bin, env } = bench
const N = Number(process.argv[2] ?? 3)
const FAST_N = 3 * N + 2

const timed = (cmd, args) => timedIn(cmd, args, env)
const build = (spec) => bench.build(spec)
const project = (i) => bench.project(i)

const cold = []
const source = []
let last
try {
  for (let i = 0; i < N; i++) {
    const p = project(i)
    const c = await build(p.spec)
    if (!c.stdout.includes('not found. building...'))
      throw new Error(`cold build did not build:\n${c.stdout}`)
    cold.push(c.ms)
    writeFileSync(path.join(p.dir, 'src/app/__init__.py'), `VALUE = ${i + 1}\n`)
    source.push((await build(p.spec)).ms)
    last = p
  }
  const ref = await bench.nameOf(last)
  const quick = [
    ['already built (imagespec build)', () => build(last.spec), 'found. Skip building.'],
    ['node -e 0', () => timed(process.execPath, ['-e', '0'])],
    ['imagespec --version', () => timed(process.execPath, [bin, '--version'])],
    [
      'imagespec name <spec>',
      () => timed(process.execPath, [bin, '-C', last.dir, 'name', last.spec]),
      ref,
    ],
    [
      'imagespec exists --ref <ref>',
      () => timed(process.execPath, [bin, 'exists', '--ref', ref]),
      'exists ',
    ],
    [
      'imagespec exists <spec>',
      () => timed(process.execPath, [bin, '-C', last.dir, 'exists', last.spec]),
      'exists ',
    ],
  ]
  const times = quick.map(() => [])
  for (let i = 0; i < FAST_N; i++) {
    for (const [k, [name, run, expect]] of quick.entries()) {
      const r = await run()
      if (expect && !r.stdout.includes(expect))
        throw new Error(`${name}: expected "${expect}" in:\n${r.stdout}`)
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
  console.log(
    `\nimagespec build benchmark (medians; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
  )
  for (const [name, ms, n] of rows)
    console.log(`  ${name.padEnd(34)} ${ms.toFixed(1).padStart(9)} ms   (n=${n})`)
  const r1 = m.source / m.cold
  console.log(
    `  source-only / cold                 ${(r1 * 100).toFixed(1).padStart(8)} %   target <= 15%   ${r1 <= 0.15 ? 'OK' : 'MISSED'}`,
  )
  for (const [name, ms] of [
    ['already built', built],
    ['exists --ref', others[2]],
    ['exists <spec>', others[3]],
  ]) {
    const r = ms / node
    console.log(
      `  ${`${name} / node -e 0`.padEnd(34)} ${r.toFixed(2).padStart(9)} x   target <= 1.6x  ${r <= 1.6 ? 'OK' : 'MISSED'}`,
    )
  }
} finally {
  await bench.stop()
}
