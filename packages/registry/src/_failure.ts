/** Why a probe could not tell whether an image exists. */
export type UnknownReason = 'auth' | 'timeout' | 'server' | 'network' | 'protocol'

/** Thrown inside a probe; the probe turns it into an `unknown` answer. */
export class ProbeFailure extends Error {
  constructor(
    readonly reason: UnknownReason,
    message: string,
    /** Whether another attempt may succeed (connection errors, 429/5xx). */
    readonly retryable = false,
    /** Milliseconds the server asked us to wait (`Retry-After`). */
    readonly retryAfterMs?: number,
  ) {
    super(message)
  }
}
