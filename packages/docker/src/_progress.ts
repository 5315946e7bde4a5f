import type { Readable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import { ImagespecError } from '@imagespec/spec'
import type { BuildEvent, BuildStep, BuildStepSummary } from '@imagespec/spec'
import { decodeStatus, type PbStatusResponse, type PbTimestamp } from './_protos.js'

/** One line of the engine's JSON progress stream (build, push or pull); only the fields we read. */
export interface StreamMessage {
  id?: string
  stream?: string
  status?: string
  progressDetail?: { current?: number; total?: number }
  aux?: unknown
  error?: string
  errorDetail?: { message?: string; code?: number }
}

/**
 * Splits a byte stream of newline-delimited JSON into messages; tolerates chunks that end mid-line or mid-character.
 * A line that is not JSON is returned as `{ stream: line }`.
 */
export function createLineParser(): {
  push(chunk: Buffer | string): StreamMessage[]
  end(): StreamMessage[]
} {
  const decoder = new StringDecoder('utf8')
  let pending = ''
  const parse = (line: string): StreamMessage[] => {
    const text = line.trim()
    if (!text) return []
    try {
      const value: unknown = JSON.parse(text)
      return typeof value === 'object' && value !== null
        ? [value as StreamMessage]
        : [{ stream: text }]
    } catch {
      return [{ stream: text }]
    }
  }
  return {
    push(chunk) {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk)
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      return lines.flatMap(parse)
    },
    end() {
      const rest = pending + decoder.end()
      pending = ''
      return parse(rest)
    },
  }
}

/** How many log lines of a failing step the error carries. */
export const LOG_TAIL = 20

interface StepState {
  step: BuildStep
  started: boolean
  finished: boolean
  cached: boolean
  error?: string
  tail: string[]
  partial: Map<number, { decoder: StringDecoder; text: string }>
}

const millis = (t: PbTimestamp | undefined) =>
  t ? t.seconds * 1000 + Math.floor(t.nanos / 1e6) : undefined

/**
 * Turns the messages of a BuildKit build stream into `BuildEvent`s and decides the outcome: `finish()` returns the
 * image id, or throws `E_BUILD_FAILED` when the stream carried an error (or no image id). Every string it emits goes
 * through `scrub` first.
 */
export class BuildProgress {
  private readonly steps = new Map<string, StepState>()
  private readonly failures: StepState[] = []
  private streamError?: string
  private imageId?: string

  constructor(
    private readonly emit: (event: BuildEvent) => void,
    private readonly scrub: (text: string) => string = (t) => t,
  ) {}

  handle(msg: StreamMessage): void {
    if (msg.error !== undefined || msg.errorDetail !== undefined) {
      this.streamError ??= this.scrub(msg.errorDetail?.message ?? msg.error ?? 'unknown error')
    } else if (msg.id === 'moby.buildkit.trace' && typeof msg.aux === 'string') {
      this.status(decodeStatus(msg.aux))
    } else if (isImageIdAux(msg.aux)) {
      this.setImageId(msg.aux.ID)
    } else if (typeof msg.stream === 'string') {
      for (const line of msg.stream.split('\n')) {
        if (line.trim()) this.emit({ type: 'message', text: this.scrub(line.replace(/\r$/, '')) })
      }
    } else if (typeof msg.status === 'string') {
      this.emit({
        type: 'message',
        text: this.scrub(msg.id ? `${msg.id}: ${msg.status}` : msg.status),
      })
    }
  }

  /** One `StatusResponse` of BuildKit's `Control.Status` stream. */
  handleStatus(res: PbStatusResponse): void {
    this.status(res)
  }

  /** The build's own error (a failed solve), when no step carried it. */
  fail(message: string): void {
    this.streamError ??= this.scrub(message)
  }

  /** The image the exporter wrote. */
  setImageId(imageId: string): void {
    this.imageId = imageId
    this.emit({ type: 'image-id', imageId })
  }

  /** Flushes pending log lines; returns the image id and step counts, or throws when the build failed. */
  finish(): { imageId: string; steps: BuildStepSummary } {
    for (const state of this.steps.values()) this.flushLogs(state)
    const failed = this.failures[0]
    if (failed || this.streamError !== undefined) {
      const reason = this.streamError ?? failed?.error ?? ''
      throw new ImagespecError(
        'E_BUILD_FAILED',
        failed ? `Build failed at step "${failed.step.name}"` : 'Build failed',
        { details: [...(failed?.tail ?? []), `error: ${reason}`], cause: new Error(reason) },
      )
    }
    if (!this.imageId) {
      throw new ImagespecError('E_BUILD_FAILED', 'Build ended without an image id', {
        hint: 'The engine closed the build stream early; check the engine logs',
      })
    }
    const all = [...this.steps.values()]
    return {
      imageId: this.imageId,
      steps: { total: all.length, cached: all.filter((s) => s.cached).length },
    }
  }

  private state(digest: string, name?: string): StepState {
    let state = this.steps.get(digest)
    if (!state) {
      state = {
        step: { digest, name: this.scrub(name || digest) },
        started: false,
        finished: false,
        cached: false,
        tail: [],
        partial: new Map(),
      }
      this.steps.set(digest, state)
    }
    return state
  }

  private status(res: PbStatusResponse): void {
    for (const v of res.vertexes) {
      const state = this.state(v.digest, v.name)
      const { step } = state
      if (v.cached && !state.cached) {
        state.cached = state.finished = true
        this.emit({ type: 'step-cached', step })
        continue
      }
      if (v.started && !state.started && !state.finished) {
        state.started = true
        this.emit({ type: 'step-started', step })
      }
      if ((v.completed || v.error) && !state.finished) {
        state.finished = true
        this.flushLogs(state)
        if (v.error) {
          state.error = this.scrub(v.error)
          this.failures.push(state)
          this.emit({ type: 'step-error', step, error: state.error })
        } else {
          const start = millis(v.started)
          const end = millis(v.completed)
          const durationMs = start !== undefined && end !== undefined ? end - start : undefined
          this.emit({ type: 'step-completed', step, durationMs })
        }
      }
    }
    for (const s of res.statuses) {
      this.emit({
        type: 'status',
        step: this.state(s.vertex).step,
        id: this.scrub(s.ID),
        current: s.current,
        total: s.total || undefined,
        done: Boolean(s.completed),
      })
    }
    for (const log of res.logs) this.log(this.state(log.vertex), log.stream, Buffer.from(log.msg))
    for (const w of res.warnings) {
      this.emit({
        type: 'warning',
        step: w.vertex ? this.state(w.vertex).step : undefined,
        message: this.scrub(Buffer.from(w.short).toString()),
        detail: w.detail.map((d) => this.scrub(Buffer.from(d).toString())),
        url: w.url || undefined,
      })
    }
  }

  private log(state: StepState, stream: number, bytes: Buffer): void {
    let partial = state.partial.get(stream)
    if (!partial)
      state.partial.set(stream, (partial = { decoder: new StringDecoder('utf8'), text: '' }))
    const lines = (partial.text + partial.decoder.write(bytes)).split('\n')
    partial.text = lines.pop() ?? ''
    for (const line of lines) this.line(state, stream, line)
  }

  private flushLogs(state: StepState): void {
    for (const [stream, partial] of state.partial) {
      const rest = partial.text + partial.decoder.end()
      partial.text = ''
      if (rest) this.line(state, stream, rest)
    }
    state.partial.clear()
  }

  private line(state: StepState, stream: number, raw: string): void {
    const line = this.scrub(raw.replace(/\r$/, ''))
    state.tail.push(line)
    if (state.tail.length > LOG_TAIL) state.tail.shift()
    this.emit({ type: 'log', step: state.step, stream: stream === 2 ? 'stderr' : 'stdout', line })
  }
}

function isImageIdAux(aux: unknown): aux is { ID: string } {
  return typeof aux === 'object' && aux !== null && typeof (aux as { ID?: unknown }).ID === 'string'
}

/** Reads a JSON-lines progress stream to its end; rejects when it breaks off (or `signal` aborts). */
export function readMessages(
  stream: Readable,
  signal: AbortSignal | undefined,
  onMessage: (m: StreamMessage) => void,
) {
  const parser = createLineParser()
  return new Promise<void>((resolve, reject) => {
    const abort = () =>
      stream.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'))
    signal?.addEventListener('abort', abort, { once: true })
    const done = (err?: unknown) => {
      signal?.removeEventListener('abort', abort)
      if (err) reject(err)
      else resolve()
    }
    stream.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk).forEach(onMessage)
      } catch (err) {
        stream.destroy(err as Error)
      }
    })
    stream.on('error', done)
    stream.on('end', () => {
      try {
        parser.end().forEach(onMessage)
        done()
      } catch (err) {
        done(err)
      }
    })
    stream.on('close', () => {
      if (!stream.readableEnded) done(new Error('the engine closed the progress stream early'))
    })
  })
}
