import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Options } from 'tsup'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * Files compiled into the builds as constants (esbuild `define`), so that a bundle inlining a package needs nothing
 * beside it. The sources read the same files at run time when the constant is not defined.
 */
export const embedded: Record<string, string> = {
  __IMAGESPEC_DOCKERFILE_TEMPLATE__: JSON.stringify(
    readFileSync(path.join(repo, 'packages/dockerfile/templates/Dockerfile.ejs'), 'utf8'),
  ),
}

/** Shared tsup options: every package's tsup.config.ts spreads these. */
export const base: Options = {
  entry: ['src/index.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  dts: { compilerOptions: { customConditions: [] } },
  sourcemap: true,
  clean: true,
  define: embedded,
}
