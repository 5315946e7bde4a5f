import { createRequire } from 'node:module'

/** This package's version (from package.json, found next to dist/ and src/ alike). */
export const version: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version
