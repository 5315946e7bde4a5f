import { ProbeFailure } from './_failure.js'

export interface RetryContext {
  /** Epoch ms after which no attempt starts and no wait ends. */
  deadline: number
  /** Aborts a wait between attempts (read only when waiting). */
  readonly signal: AbortSignal
  /** Retries after the first attempt. */
  retries: number
  debug(message: string): void
}

const BASE_DELAY_MS = 100
const MAX_DELAY_MS = 2_000

/**
 * Runs `attempt` until it succeeds, fails for good, or the retries or the time run out. Retryable `ProbeFailure`s wait
 * for the server's `Retry-After`, else an exponential backoff with jitter; a wait that would pass the deadline is not
 * started (the failure is returned at once instead).
 */
export function withRetries<T>(ctx: RetryContext, attempt: () => Promise<T>): Promise<T> {
  // The first attempt outside the loop: a warm probe's request costs no extra async frame.
  return attempt().catch((e: unknown) => retry(ctx, attempt, e))
}

async function retry<T>(
  ctx: RetryContext,
  attempt: () => Promise<T>,
  failure: unknown,
): Promise<T> {
  for (let n = 0; ; n++) {
    const e = failure
    if (!(e instanceof ProbeFailure) || !e.retryable || n >= ctx.retries) throw e
    const delay = e.retryAfterMs ?? backoffMs(n)
    if (Date.now() + delay >= ctx.deadline) {
      const wait = e.retryAfterMs !== undefined ? 'the Retry-After wait' : 'the next retry'
      throw new ProbeFailure(
        e.reason,
        `${e.message} (${wait} of ${delay} ms would pass the timeout)`,
      )
    }
    ctx.debug(`${e.message}; retry ${n + 1}/${ctx.retries} in ${delay} ms`)
    await sleep(delay, ctx.signal)
    try {
      return await attempt()
    } catch (next) {
      failure = next
    }
  }
}

/** Exponential backoff with "equal jitter": half fixed, half random. */
export function backoffMs(n: number, random = Math.random): number {
  const full = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** n)
  return Math.round(full / 2 + random() * (full / 2))
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms from `now`; `undefined` when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** An abortable wait, as `node:timers/promises` gives (which every start would otherwise load for a rare retry). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
