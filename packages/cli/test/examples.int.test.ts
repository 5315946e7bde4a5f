// The packages' runnable examples (packages/*/examples/*.ts, linked from each package's README) run as a user would
// run them, from the sources through tsx, against the real engine and a loopback registry; each must exit 0 and print
// what its README says.
import { execFile, execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ensureBaseImage,
  requireEngine,
  startRegistry,
  type RunningRegistry,
} from '@imagespec/test-utils'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const tsx = join(repo, 'node_modules/.bin/tsx')
const run = async (file: string, args: string[] = []) => {
  const { stdout } = await promisify(execFile)(
    tsx,
    ['--conditions=@imagespec/source', file, ...args],
    {
      cwd: repo,
      encoding: 'utf8',
      timeout: 180_000,
      maxBuffer: 1 << 26,
    },
  )
  return stdout
}

const expected: Record<string, RegExp[]> = {
  'spec/examples/identity.ts': [/^localhost:5000\/imagespec-hello:[\w-]{22}$/m, /^id [\w-]{22}$/m],
  'installers/examples/plan.ts': [
    /^python: micromamba, packages: uv-pip$/m,
    /^context file requirements_uv\.txt$/m,
  ],
  'dockerfile/examples/render.ts': [
    /^FROM localhost:5000\/imagespec\/python-base:3\.11/m,
    /^ENV _F_IMG_ID=example-id$/m,
    /^context: Dockerfile hello\.txt$/m,
  ],
  'python-source/examples/scan.ts': [
    /^workflows\/images\.py:\d+ base_image localhost:30000\/flyte-example-base:[\w-]{22}$/m,
  ],
  'builder/examples/dry-run.ts': [
    /^localhost:5000\/imagespec-hello:[\w-]{22} (would build|exists) with default$/m,
    /^command: docker build --tag /m,
  ],
  'builder-buildah/examples/describe.ts': [
    /^localhost:5000\/imagespec-hello:[\w-]{22} with buildah$/m,
    /^buildah --storage-driver vfs bud /m,
  ],
  'cli/examples/embed.ts': [
    /^exit 0: localhost:5000\/imagespec-hello:[\w-]{22}$/m,
    /^exit 2: ✖ Spec file ".*" not found$/m,
  ],
  'docker/examples/build.ts': [
    /^engine \S+ \(linux\/\w+\)$/m,
    /^built sha256:[0-9a-f]{64} \{"total":\d+,"cached":\d+\}$/m,
  ],
  'registry/examples/probe.ts': [/ exists sha256:[0-9a-f]{64}$/m, /:no-such-tag missing$/m],
}

describe('runnable examples', () => {
  let registry: RunningRegistry
  beforeAll(async () => {
    await requireEngine()
    const base = await ensureBaseImage()
    registry = await startRegistry()
    execFileSync('docker', ['tag', base, `${registry.host}/example/base:1`])
    execFileSync('docker', ['push', `${registry.host}/example/base:1`], { stdio: 'ignore' })
    execFileSync('docker', ['image', 'rm', `${registry.host}/example/base:1`], { stdio: 'ignore' })
  }, 300_000)
  afterAll(async () => {
    await registry?.stop()
    try {
      execFileSync('docker', ['image', 'rm', '-f', 'imagespec-example/docker:latest'], {
        stdio: 'ignore',
      })
    } catch {
      // not built
    }
  })

  it('every package has an example, and every example is checked here', () => {
    const found = readdirSync(join(repo, 'packages')).flatMap((p) => {
      try {
        return readdirSync(join(repo, 'packages', p, 'examples'))
          .filter((f) => f.endsWith('.ts'))
          .map((f) => `${p}/examples/${f}`)
      } catch {
        return [`${p}/examples (missing)`]
      }
    })
    expect(found.sort()).toEqual(Object.keys(expected).sort())
  })

  for (const [file, patterns] of Object.entries(expected)) {
    it(
      file,
      async () => {
        const args = file.startsWith('registry/')
          ? [`${registry.host}/example/base:1`, `${registry.host}/example/base:no-such-tag`]
          : []
        const out = await run(join(repo, 'packages', file), args)
        for (const p of patterns) expect(out).toMatch(p)
      },
      200_000,
    )
  }
})
