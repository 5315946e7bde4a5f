// Finds the ImageSpec(...) constructions in a Flyte project's Python sources, without running Python, and prints
// each one's location, variable and image name.
// Run from the repository root: pnpm exec tsx --conditions=@imagespec/source packages/python-source/examples/scan.ts
import { fileURLToPath } from 'node:url'
import { describeIdentity } from '@imagespec/spec'
import { loadScannedSpec, scanPaths } from '@imagespec/python-source'

const project = fileURLToPath(new URL('../../../examples/flyte-project/', import.meta.url))
const { specs, skipped } = scanPaths(['workflows'], { cwd: project })
for (const s of specs) {
  const loaded = loadScannedSpec(s, { cwd: project }) // relative paths resolve against the project root
  console.log(
    `${s.file}:${s.line} ${s.variable ?? '-'} ${(await describeIdentity(loaded)).imageName}`,
  )
}
for (const s of skipped) console.log(`skipped ${s.file}:${s.line}: ${s.reason}`)
