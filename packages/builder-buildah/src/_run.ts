// Runs buildah as a child process: output lines become build events, failures become ImagespecErrors.
import { spawn } from 'node:child_process'
import { ImagespecError, type BuilderContext, type ErrorCode } from '@imagespec/spec'

const TAIL = 30

/** Runs `argv`; resolves with its stdout when it exits 0. Every output line is reported as a `message` event. */
export function runBuildah(
  argv: readonly string[],
  ctx: BuilderContext,
  failure: { code: ErrorCode; message: string },
): Promise<string> {
  const [bin, ...args] = argv
  return new Promise((resolvePromise, reject) => {
    const tail: string[] = []
    let stdout = ''
    const child = spawn(bin, args, {
      env: { ...ctx.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: ctx.signal,
    })
    const lines = (chunk: Buffer, keep: boolean) => {
      const text = chunk.toString('utf8')
      if (keep) stdout += text
      for (const line of text.split('\n')) {
        if (line === '') continue
        tail.push(line)
        if (tail.length > TAIL) tail.shift()
        ctx.onEvent({ type: 'message', text: line })
      }
    }
    child.stdout.on('data', (c: Buffer) => lines(c, true))
    child.stderr.on('data', (c: Buffer) => lines(c, false))
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError') {
        reject(
          new ImagespecError('E_BUILD_CANCELLED', 'The buildah build was cancelled', {
            cause: err,
          }),
        )
      } else if (err.code === 'ENOENT') {
        reject(
          new ImagespecError('E_ENGINE_UNAVAILABLE', `buildah not found ("${bin}")`, {
            cause: err,
            hint: 'Install it (Debian: apt-get install buildah) or set IMAGESPEC_BUILDAH to its path',
          }),
        )
      } else reject(new ImagespecError(failure.code, failure.message, { cause: err }))
    })
    child.on('close', (status) => {
      if (status === 0) resolvePromise(stdout)
      else if (status !== null)
        reject(
          new ImagespecError(failure.code, `${failure.message} (buildah exited with ${status})`, {
            details: tail,
          }),
        )
    })
  })
}
