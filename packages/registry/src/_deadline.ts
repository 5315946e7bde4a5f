import { Cancel } from './_cancel.js'
import { ProbeFailure } from './_failure.js'

/**
 * Runs `work` until `deadline` (epoch ms) or the caller's `signal`, whichever comes first: that cancels everything
 * in flight and settles at once with `stopped(aborted)`. A `ProbeFailure` settles with `failed(e)`; any other error
 * (a caller error such as a broken docker config) rejects.
 */
export function underDeadline<T>(
  deadline: number,
  signal: AbortSignal | undefined,
  work: (cancel: Cancel) => Promise<T>,
  stopped: (aborted: boolean) => T,
  failed: (e: ProbeFailure) => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = new Cancel()
    let settled = false
    const stop = () => {
      if (settled) return
      settled = true
      cancel.abort()
      resolve(stopped(signal?.aborted === true))
    }
    const left = deadline - Date.now()
    if (left <= 0 || signal?.aborted) return stop()
    const timer = setTimeout(stop, left)
    signal?.addEventListener('abort', stop, { once: true })
    // No cancel when done: that would destroy the kept-alive socket the answer came on.
    const done = () => {
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', stop)
    }
    work(cancel).then(
      (answer) => {
        if (settled) return
        done()
        resolve(answer)
      },
      (e: unknown) => {
        if (settled) return
        done()
        if (e instanceof ProbeFailure) resolve(failed(e))
        else reject(e)
      },
    )
  })
}
