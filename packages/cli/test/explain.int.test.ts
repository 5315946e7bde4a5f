// `explain --against <image>` reads the label imagespec records at build time from the local engine, else from the
// image's registry (manifest and config, no pull). The image here is made with a plain `docker build` carrying the
// label that the engine would have added, so the test needs no package index.
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { EXPLAIN_LABEL, explainLabel, explainSpec, loadSpec } from '@imagespec/spec'
import {
  ensureBaseImage,
  skipWithoutEngine,
  startRegistry,
  TEST_LABEL,
} from '@imagespec/test-utils'
import { runCli } from './_cli.js'

const RUN_ID = randomUUID()
const docker = (...args: string[]) =>
  execFileSync('/usr/bin/docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

describe.skipIf(await skipWithoutEngine())('imagespec explain --against an image', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imagespec-explain-int-'))
  const image = `imagespec-explain-test:${RUN_ID.slice(0, 8)}`
  afterAll(() => {
    execFileSync('/usr/bin/docker', ['image', 'rm', '-f', image], { stdio: 'ignore' })
    rmSync(dir, { recursive: true, force: true })
  })

  it('names the fields and files changed since the image was built; refuses an image without the label', async () => {
    mkdirSync(join(dir, 'src'))
    writeFileSync(join(dir, 'src/main.py'), 'print(1)\n')
    const spec = join(dir, 'imagespec.yaml')
    writeFileSync(spec, 'name: app\npackages: [numpy]\nsource_root: src\nsource_copy_mode: all\n')
    // Relative paths resolve from the working directory (flytekit's rule): the project's, here and for the CLI (-C).
    const label = explainLabel(await explainSpec(await loadSpec(spec, { env: {}, cwd: dir })))
    const ctx = join(dir, 'ctx')
    mkdirSync(ctx)
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${await ensureBaseImage()}\n`)
    docker(
      'build',
      '-q',
      '--label',
      `${EXPLAIN_LABEL}=${label}`,
      '--label',
      `${TEST_LABEL}=${RUN_ID}`,
      '-t',
      image,
      ctx,
    )

    writeFileSync(join(dir, 'src/main.py'), 'print(2)\n')
    writeFileSync(
      spec,
      'name: app\npackages: [numpy, pandas]\nsource_root: src\nsource_copy_mode: all\n',
    )
    const r = await runCli(['-C', dir, 'explain', spec, '--against', image, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j.changed).toEqual(['source_root', 'packages', 'src/main.py'])
    expect(j.against_tag).toBe(JSON.parse(label).tag)

    const none = await runCli(['-C', dir, 'explain', spec, '--against', await ensureBaseImage()])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain(`has no ${EXPLAIN_LABEL} label`)

    // Pushed and gone from the local engine: the label comes from the registry.
    const registry = await startRegistry()
    try {
      const remote = `${registry.host}/explain-test:${RUN_ID.slice(0, 8)}`
      docker('tag', image, remote)
      docker('push', remote)
      docker('image', 'rm', remote)
      const fromRegistry = await runCli(['-C', dir, 'explain', spec, '--against', remote, '--json'])
      expect(fromRegistry.code, fromRegistry.stderr).toBe(0)
      expect(JSON.parse(fromRegistry.stdout).changed).toEqual([
        'source_root',
        'packages',
        'src/main.py',
      ])
      const absent = await runCli([
        '-C',
        dir,
        'explain',
        spec,
        '--against',
        `${registry.host}/explain-test:absent`,
      ])
      expect(absent.code).toBe(2)
      expect(absent.stderr).toContain(
        'neither a spec file nor an image in the local engine or its registry',
      )
    } finally {
      await registry.stop()
    }
  })
})
