// Renders flytekit's Dockerfile layers from an install plan (here written by hand; @imagespec/installers makes real
// ones) and writes the build context to a temporary folder, then removes it.
// Run from the repository root: pnpm exec tsx --conditions=@imagespec/source packages/dockerfile/examples/render.ts
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { renderDockerfile, resolveRenderSettings, writeContext } from '@imagespec/dockerfile'

const settings = resolveRenderSettings(process.env, { cacheMounts: true })
const dockerfile = renderDockerfile(
  {
    baseImage: 'localhost:5000/imagespec/python-base:3.11',
    install: {
      python: {
        provider: 'system-python',
        stages: [],
        steps: [],
        pathPrefix: '/usr/local/bin',
        python: 'python',
      },
      packages: {
        installer: 'pip',
        stages: [],
        files: [],
        steps: [
          { kind: 'run', mounts: [], command: ['python -m pip install --no-cache-dir requests'] },
        ],
        commandMounts: [],
        secrets: [],
      },
    },
    env: { GREETING: 'hello' },
    aptPackages: null,
    copySource: false,
    entrypoint: null,
    copies: [],
    commands: ['echo built'],
    imageId: 'example-id',
  },
  settings,
)
console.log(dockerfile)
const dir = mkdtempSync(join(tmpdir(), 'imagespec-example-'))
try {
  await writeContext(
    { dockerfile, files: [{ path: 'hello.txt', content: 'hi\n' }], warnings: [], secrets: [] },
    dir,
  )
  console.log(`context: ${readdirSync(dir).sort().join(' ')}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
