import { Readable } from 'node:stream'
import { main, type Io } from '../src/index.js'

/** Runs `main` in-process with captured output, in `cwd`. */
export async function runMain(
  cwd: string,
  args: string[],
  opts: { stdin?: string; env?: Record<string, string> } = {},
) {
  let stdout = ''
  let stderr = ''
  const io: Io = {
    stdout: { write: (s) => void (stdout += s) },
    stderr: { write: (s) => void (stderr += s) },
    stdin: Readable.from([opts.stdin ?? '']),
    env: { NO_COLOR: '1', ...opts.env },
    cwd,
    signal: new AbortController().signal,
  }
  const code = await main(args, io)
  return { code, stdout, stderr }
}
