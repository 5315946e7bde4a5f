import { execFile } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

/** The offline Python base image the integration tests build FROM (Debian bookworm python3, pip, venv, poetry). */
export const BASE_IMAGE = process.env.IMAGESPEC_TEST_BASE_IMAGE ?? 'localhost:5000/imagespec/python-base:3.11'

/**
 * Makes sure the engine has the base image: runs tools/scripts/ensure-base-image.sh (mmdebstrap + docker import,
 * cached), which returns at once when the image is already there.
 */
export async function ensureBaseImage(image = BASE_IMAGE): Promise<string> {
  const script = resolve(dirname(fileURLToPath(import.meta.url)), '../../scripts/ensure-base-image.sh')
  await promisify(execFile)('bash', [script, image], { maxBuffer: 16 * 1024 * 1024 })
  return image
}
