/** Where a library sends its debug lines (never secrets). Libraries never print: the host decides what to show. */
export interface Logger {
  debug(message: string): void
}
