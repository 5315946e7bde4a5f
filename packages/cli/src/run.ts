import { writeSync } from 'node:fs'
import { isatty } from 'node:tty'
import type { Io, Output } from './io.js'
import { main } from './main.js'

/**
 * An output on file descriptor 1 or 2, written synchronously: nothing is lost at exit, and a quick command never
 * loads Node's stream modules for `process.stdout`. Should the descriptor be non-blocking and full (EAGAIN), the rest
 * goes through the process stream; a closed pipe (EPIPE, e.g. `| head -1`) drops the rest silently.
 */
function fdOutput(fd: 1 | 2): Output {
  const stream = () => (fd === 1 ? process.stdout : process.stderr)
  let mode: 'sync' | 'stream' | 'closed' = 'sync'
  const tty = isatty(fd)
  return {
    isTTY: tty,
    get columns() {
      return tty ? stream().columns : undefined
    },
    write(text: string) {
      if (mode === 'closed') return
      if (mode === 'stream') {
        stream().write(text)
        return
      }
      let buf = Buffer.from(text)
      try {
        while (buf.length > 0) buf = buf.subarray(writeSync(fd, buf))
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (code === 'EPIPE') mode = 'closed'
        else if (code === 'EAGAIN') {
          mode = 'stream'
          stream().write(buf)
        } else throw e
      }
    },
  }
}

/**
 * Runs `imagespec` on this process's arguments and streams, and sets its exit code. Ctrl-C aborts the running build
 * through its AbortSignal (the build cleans up); a second Ctrl-C exits at once.
 */
export function runProcess(
  opts: { importModule?: (url: string) => Promise<unknown> } = {},
): Promise<void> {
  // A dependency's deprecation (docker-modem's ssh URL, DEP0170) is nothing a user of the command can act on.
  process.noDeprecation = true
  const abort = new AbortController()
  process.on('SIGINT', () => {
    if (abort.signal.aborted) process.exit(130)
    abort.abort(new Error('interrupted'))
  })
  const io: Io = {
    stdout: fdOutput(1),
    stderr: fdOutput(2),
    // process.stdin is made on first use: only `-` (a spec on standard input) needs it.
    get stdin() {
      return process.stdin
    },
    env: process.env,
    cwd: process.cwd(),
    signal: abort.signal,
    importModule: opts.importModule,
  }
  return main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code
  })
}
