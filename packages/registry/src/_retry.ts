import { setTimeout as sleep } from 'node:timers/promises'
import { ProbeFailure } from './_failure.js'

export interface RetryContext {
  /** Epoch ms after which no attempt starts and no wait ends. */
  deadline: number
  signal: AbortSignal
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
export async function withRetries<T>(ctx: RetryContext, attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt()
    } catch (e) {
      if (!(e instanceof ProbeFailure) || !e.retryable || n >= ctx.retries) throw e
      const delay = e.retryAfterMs ?? backoffMs(n)
      if (Date.now() + delay >= ctx.deadline) {
        const wait = e.retryAfterMs !== undefined ? 'the Retry-After wait' : 'the next retry'
        throw new ProbeFailure(e.reason, `${e.message} (${wait} of ${delay} ms would pass the timeout)`)
      }
      ctx.debug(`${e.message}; retry ${n + 1}/${ctx.retries} in ${delay} ms`)
      await sleep(delay, undefined, { signal: ctx.signal })
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
