#!/usr/bin/env node
// `pnpm bench [name…]`: runs the named benchmarks one after another (default: context, registry, build), each in its
// own process, and exits non-zero if one fails. `buildkit` (it empties the engine's build cache) and `multi-platform`
// (arm64 builds under emulation, minutes) run only when named.
// The registry and build benchmarks need the built packages (`pnpm build`), a Docker engine and docker-registry.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BENCHES = ['context', 'registry', 'build', 'buildkit', 'multi-platform']
const names = process.argv.slice(2)
const unknown = names.filter((n) => !BENCHES.includes(n))
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (choose from ${BENCHES.join(', ')})`)
  process.exit(2)
}
let status = 0
for (const name of names.length > 0 ? names : BENCHES.slice(0, 3)) {
  console.log(`\n== bench/${name}.mjs`)
  const r = spawnSync(
    process.execPath,
    [fileURLToPath(new URL(`./${name}.mjs`, import.meta.url))],
    { stdio: 'inherit' },
  )
  if (r.status !== 0) status = 1
}
process.exit(status)
