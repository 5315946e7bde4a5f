// Public API of @imagespec/cli: the program, for embedding and tests. The `imagespec` binary is dist/bin.cjs (src/bin.ts).
export { main } from './main.js'
export type { GlobalOptions } from './main.js'
export { printError, exitCodeOf } from './print-error.js'
export type { ErrorSink, PrintErrorOptions } from './print-error.js'
export type { Io, Output } from './io.js'
