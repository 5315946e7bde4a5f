import { describe, expect, it } from 'vitest'
import { ProbeFailure } from './_failure.js'
import { backoffMs, parseRetryAfter, withRetries } from './_retry.js'

describe('retries', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')
    expect(parseRetryAfter('3', now)).toBe(3000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:02 GMT', now)).toBe(2000)
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
  })

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(0, () => 0)).toBe(50)
    expect(backoffMs(0, () => 1)).toBe(100)
    expect(backoffMs(3, () => 1)).toBe(800)
    expect(backoffMs(10, () => 1)).toBe(2000)
  })

  const ctx = (deadlineIn: number, retries = 3) => ({
    deadline: Date.now() + deadlineIn,
    signal: new AbortController().signal,
    retries,
    debug: () => {},
  })

  it('retries retryable failures and stops at the limit', async () => {
    let calls = 0
    await expect(
      withRetries(ctx(5000, 2), async () => {
        calls++
        throw new ProbeFailure('server', 'busy', true, 1)
      }),
    ).rejects.toThrow('busy')
    expect(calls).toBe(3)
  })

  it('does not retry other failures', async () => {
    let calls = 0
    await expect(
      withRetries(ctx(5000), async () => {
        calls++
        throw new ProbeFailure('auth', 'no')
      }),
    ).rejects.toThrow('no')
    expect(calls).toBe(1)
  })

  it('gives up at once when the wait would pass the deadline', async () => {
    const start = Date.now()
    await expect(
      withRetries(ctx(500), async () => {
        throw new ProbeFailure('server', 'HTTP 429', true, 60_000)
      }),
    ).rejects.toThrow('the Retry-After wait of 60000 ms would pass the timeout')
    expect(Date.now() - start).toBeLessThan(100)
  })
})
