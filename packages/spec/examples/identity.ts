// Loads a spec file and prints the image name flytekit would compute for it, and the id behind the tag.
// Run from the repository root: pnpm exec tsx --conditions=@imagespec/source packages/spec/examples/identity.ts
import { fileURLToPath } from 'node:url'
import { describeIdentity, loadSpec } from '@imagespec/spec'

const file = fileURLToPath(new URL('../../../examples/hello/imagespec.yaml', import.meta.url))
const loaded = await loadSpec(file) // YAML or JSON; relative paths in it resolve against its folder
const { id, imageName } = await describeIdentity(loaded) // the tag covers the spec and the files it copies
console.log(imageName)
console.log(`id ${id}`)
