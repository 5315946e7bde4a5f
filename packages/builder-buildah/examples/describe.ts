// Registers the buildah builder with an engine and asks it, in a dry run, what it would do for a spec: the buildah
// command lines. Nothing is built; buildah need not be installed for this.
// Run from the repository root: pnpm exec tsx --conditions=@imagespec/source packages/builder-buildah/examples/describe.ts
import { fileURLToPath } from 'node:url'
import { loadSpec } from '@imagespec/spec'
import { createEngine, resolveSettings } from '@imagespec/builder'
import buildah from '@imagespec/builder-buildah'

const engine = createEngine()
engine.register(buildah({ storageDriver: 'vfs' }))
const loaded = await loadSpec(
  fileURLToPath(new URL('../../../examples/hello/imagespec.yaml', import.meta.url)),
)
const settings = resolveSettings(process.env, { builder: 'buildah', force: true })
const outcome = await engine.build(loaded, { settings, dryRun: true })
console.log(`${outcome.imageName} with ${outcome.builder}`)
console.log(outcome.description?.command ?? '-')
