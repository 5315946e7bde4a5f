// Chooses the Python provider and the package installer for a spec, as flytekit's default builder does, and prints
// the strategies and the Dockerfile steps they contribute.
// Run from the repository root: pnpm exec tsx --conditions=@imagespec/source packages/installers/examples/plan.ts
import { normalizeSpec } from '@imagespec/spec'
import { planPackages, planPython, resolveInstallerSettings } from '@imagespec/installers'

const spec = normalizeSpec({
  name: 'app',
  python_version: '3.11',
  packages: ['pandas==2.2.3', 'requests'],
})
const warnings: string[] = []
const { flytekitVersion } = resolveInstallerSettings(process.env)
const ctx = {
  cwd: process.cwd(),
  flytekitVersion,
  defaultPythonVersion: '3.11',
  warn: (m: string) => warnings.push(m),
}
const python = planPython(spec, ctx) // flytekit's prepare_python_executable
const packages = planPackages(spec, ctx) // flytekit's prepare_python_install
console.log(`python: ${python.provider}, packages: ${packages.installer}`)
for (const file of packages.files) console.log(`context file ${file.path}`)
for (const w of warnings) console.log(`warning: ${w}`)
