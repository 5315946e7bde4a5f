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
