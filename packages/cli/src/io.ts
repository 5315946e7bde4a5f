import type { Readable } from 'node:stream'

export interface Output {
  write(text: string): void
  /** A terminal that can take cursor movements (the live progress display). */
  isTTY?: boolean
  columns?: number
}

/** The process surroundings a command uses, injectable for tests. */
export interface Io {
  stdout: Output
  stderr: Output
  stdin: Readable
  env: Readonly<Record<string, string | undefined>>
  cwd: string
  /** Aborted on Ctrl-C. */
  signal: AbortSignal
  /** Imports a `--builder-module` by file URL (default: `import()`); the bundled binary passes its own. */
  importModule?: (url: string) => Promise<unknown>
}
