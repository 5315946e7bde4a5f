import { createRequire } from 'node:module'

// Builds compile the version in (tsup `define`); from the sources it is read from package.json.
declare const __IMAGESPEC_CLI_VERSION__: string | undefined

/** This package's version. */
export const version: string =
  typeof __IMAGESPEC_CLI_VERSION__ === 'string'
    ? __IMAGESPEC_CLI_VERSION__
    : (createRequire(import.meta.url)('../package.json') as { version: string }).version
