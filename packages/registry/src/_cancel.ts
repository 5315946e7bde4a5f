/**
 * The cancellation of one probe (its deadline, the caller's signal). A probe's requests listen to it; an
 * `AbortController` per probe would do the same but costs an `EventTarget` and its listener bookkeeping on every
 * warm probe, so the `AbortSignal` is only made when an API needs one (a retry's sleep, a credential helper).
 */
export class Cancel {
  aborted = false
  reason: unknown
  private hooks: (() => void)[] = []
  private controller?: AbortController

  /** Runs `hook` when aborted (at once when already aborted). Hooks are never removed: keep them cheap and idempotent. */
  onAbort(hook: () => void): void {
    if (this.aborted) hook()
    else this.hooks.push(hook)
  }

  abort(): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = new DOMException('The probe was cancelled', 'AbortError')
    this.controller?.abort(this.reason)
    const hooks = this.hooks
    this.hooks = []
    for (const hook of hooks) hook()
  }

  /** An `AbortSignal` that follows this cancellation, made on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController()
      if (this.aborted) this.controller.abort(this.reason)
    }
    return this.controller.signal
  }
}
