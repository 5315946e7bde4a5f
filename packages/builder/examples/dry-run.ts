// Runs flytekit's build decision on a spec without building: the image name, whether it would build and why, and
// the engine call it would make. Asks the spec's registry (a loopback one here) whether the image exists.
// Run from the repository root: pnpm exec tsx --conditions=@imagespec/source packages/builder/examples/dry-run.ts
import { fileURLToPath } from 'node:url'
import { loadSpec } from '@imagespec/spec'
import { createEngine, resolveSettings } from '@imagespec/builder'

const loaded = await loadSpec(
  fileURLToPath(new URL('../../../examples/hello/imagespec.yaml', import.meta.url)),
)
const engine = createEngine() // the default builder (priority 1) and noop (priority 0)
const settings = resolveSettings(process.env, { network: 'host' })
const outcome = await engine.build(loaded, { settings, dryRun: true })
console.log(
  `${outcome.imageName} ${outcome.build ? 'would build' : 'exists'} with ${outcome.builder}`,
)
for (const line of outcome.reason) console.log(`reason: ${line}`)
console.log(`command: ${outcome.description?.command ?? '-'}`)
