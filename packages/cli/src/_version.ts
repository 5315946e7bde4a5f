import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// Read from this package's package.json at run time (src/, dist/ and the bundle all sit one level below it), so that
// the version printed is the one the package was packed with, even when `changeset version` ran after the build.
// In the CommonJS bundle import.meta is empty and __dirname is the module's own.
const url = import.meta.url as string | undefined
const here = url ? dirname(fileURLToPath(url)) : __dirname

/** This package's version. */
export const version: string = (
  JSON.parse(readFileSync(join(here, '../package.json'), 'utf8')) as { version: string }
).version
