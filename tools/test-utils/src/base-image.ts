import { execFile } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

/** The offline Python base image the integration tests build FROM (Debian bookworm python3, pip, venv, poetry). */
export const BASE_IMAGE =
  process.env.IMAGESPEC_TEST_BASE_IMAGE ?? 'localhost:5000/imagespec/python-base:3.11'

/**
 * Makes sure the engine has the base image: runs tools/scripts/ensure-base-image.sh (mmdebstrap + docker import,
 * cached), which returns at once when the image is already there.
 */
export async function ensureBaseImage(image = BASE_IMAGE): Promise<string> {
  const script = resolve(
    dirname(fileURLToPath(import.meta.url)),
    '../../scripts/ensure-base-image.sh',
  )
  await promisify(execFile)('bash', [script, image], { maxBuffer: 16 * 1024 * 1024 })
  return image
}

/**
 * Makes sure the loopback registry holds the base image as one index for linux/amd64 and linux/arm64: runs
 * tools/scripts/ensure-multiarch-base.sh (the arm64 rootfs is built once per machine), which returns at once when the
 * index is there.
 */
export async function ensureMultiPlatformBase(image = BASE_IMAGE): Promise<string> {
  await ensureBaseImage(image)
  const script = resolve(
    dirname(fileURLToPath(import.meta.url)),
    '../../scripts/ensure-multiarch-base.sh',
  )
  await promisify(execFile)('bash', [script, image], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 10 * 60_000,
  })
  return image
}

/**
 * A base image of this run's own: the offline base plus one small layer naming `runId`, tagged
@@ and labelled `labelKey=runId` (so a suite's clean-up removes it).
 * Builds FROM it share no step with any other build on the engine: BuildKit merges identical steps of builds that
 * run at the same moment, and a step merged into another build is not matched against this build's `--cache-from`
 * (seen on dockerd 20.10 under load: the flytekit preamble `RUN useradd …` ran under the other build's name and the
 * pip step after it re-ran). Tests and benches that measure cache reuse build FROM this.
 */
export async function uniqueBaseImage(runId: string, labelKey: string): Promise<string> {
  const base = await ensureBaseImage()
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const dir = mkdtempSync(resolve(tmpdir(), 'imagespec-base-'))
  const tag = `localhost:5000/imagespec-test/base:${runId}`
  try {
    writeFileSync(resolve(dir, 'run-id'), `${runId}\n`)
    writeFileSync(resolve(dir, 'Dockerfile'), `FROM ${base}\nCOPY run-id /etc/imagespec-run-id\n`)
    await promisify(execFile)(
      '/usr/bin/docker',
      ['build', '-q', '--label', `${labelKey}=${runId}`, '-t', tag, dir],
      { env: { ...process.env, DOCKER_BUILDKIT: '1' }, maxBuffer: 16 * 1024 * 1024 },
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return tag
}
