import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { BuildEvent } from '@imagespec/spec'
import { isImagespecError, type ImagespecError } from '@imagespec/spec'
import { BuildProgress, createLineParser, LOG_TAIL, type StreamMessage } from './_progress.js'
import { encodeStatus } from './_protos.js'
import { makeScrubber } from './scrub.js'

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../test/fixtures', name))

/** Feeds `bytes` to a parser in chunks of `size` bytes (or whole) and runs the messages through BuildProgress. */
function run(bytes: Buffer, size = bytes.length, scrub?: (t: string) => string) {
  const parser = createLineParser()
  const events: BuildEvent[] = []
  const progress = new BuildProgress((e) => events.push(e), scrub)
  for (let i = 0; i < bytes.length; i += size)
    parser.push(bytes.subarray(i, i + size)).forEach((m) => progress.handle(m))
  parser.end().forEach((m) => progress.handle(m))
  let outcome: ReturnType<BuildProgress['finish']> | ImagespecError
  try {
    outcome = progress.finish()
  } catch (err) {
    if (!isImagespecError(err)) throw err
    outcome = err
  }
  return { events, outcome }
}

const trace = (status: Parameters<typeof encodeStatus>[0]): string =>
  JSON.stringify({ id: 'moby.buildkit.trace', aux: encodeStatus(status) }) + '\r\n'
const imageId = JSON.stringify({ id: 'moby.image.id', aux: { ID: 'sha256:abc' } }) + '\n'
const ts = { seconds: 1, nanos: 0 }

describe('createLineParser', () => {
  it('parses JSON lines split mid-object and mid-character', () => {
    const text = '{"stream":"caf\u00e9 ok"}\r\n{"aux":{"ID":"sha256:1"}}\n{"status":"x"}'
    const bytes = Buffer.from(text)
    for (let cut = 1; cut < bytes.length; cut++) {
      const p = createLineParser()
      const out: StreamMessage[] = [
        ...p.push(bytes.subarray(0, cut)),
        ...p.push(bytes.subarray(cut)),
        ...p.end(),
      ]
      expect(out).toEqual([
        { stream: 'caf\u00e9 ok' },
        { aux: { ID: 'sha256:1' } },
        { status: 'x' },
      ])
    }
  })

  it('returns a non-JSON line as a stream message and skips blank lines', () => {
    const p = createLineParser()
    expect([...p.push('\n\nnot json\n'), ...p.end()]).toEqual([{ stream: 'not json' }])
  })
})

describe('BuildProgress on recorded engine streams', () => {
  it.each([1, 7, 64, 1000])('decodes a successful build the same in %i-byte chunks', (size) => {
    const whole = run(fixture('build-success.jsonl'))
    expect(run(fixture('build-success.jsonl'), size)).toEqual(whole)
  })

  it('reports steps, logs, the image id and the step counts of a successful build', () => {
    const { events, outcome } = run(fixture('build-success.jsonl'))
    expect(outcome).toEqual({
      imageId: 'sha256:8d8984f31db561915a693271fe539e77f4de83b6cf1b071fedf8b4123eef3d6f',
      steps: { total: 8, cached: 1 },
    })
    const logs = events.flatMap((e) =>
      e.type === 'log' ? [`${e.step.name} | ${e.stream} | ${e.line}`] : [],
    )
    expect(logs).toEqual([
      `[2/4] RUN python3 -c "print('line one'); print('line two')" | stdout | line one`,
      `[2/4] RUN python3 -c "print('line one'); print('line two')" | stdout | line two`,
      '[4/4] RUN python3 /app/app.py | stdout | hello from app',
    ])
    const started = events.filter((e) => e.type === 'step-started').map((e) => e.step.name)
    const completed = events.filter((e) => e.type === 'step-completed').map((e) => e.step.name)
    expect(started).toEqual(completed)
    expect(started).toContain('[3/4] COPY app.py /app/app.py')
    expect(events).toContainEqual({
      type: 'message',
      text: 'Successfully tagged imagespec-fixture:1',
    })
    expect(events.filter((e) => e.type === 'image-id')).toHaveLength(1)
  })

  it('reports the unchanged RUN step of a rebuild as cached', () => {
    const { events, outcome } = run(fixture('build-cached.jsonl'), 100)
    const cached = events.flatMap((e) => (e.type === 'step-cached' ? [e.step.name] : []))
    expect(cached).toEqual([`[2/4] RUN python3 -c "print('line one'); print('line two')"`])
    expect(outcome).toMatchObject({ steps: { total: 8, cached: 1 } })
  })

  it('fails a build whose stream carries an error, naming the step and the tail of its log', () => {
    const { events, outcome } = run(fixture('build-failure.jsonl'), 13)
    const err = outcome as ImagespecError
    expect(err.code).toBe('E_BUILD_FAILED')
    expect(err.message).toMatch(/^Build failed at step "\[2\/2\] RUN for i in 1 2 3 .*exit 3"$/)
    expect(err.details).toHaveLength(LOG_TAIL + 1)
    expect(err.details.slice(0, 2)).toEqual(['out 7', 'out 8'])
    expect(err.details).toContain('to stderr')
    expect(err.details.at(-2)).toBe('out 25')
    expect(err.details.at(-1)).toMatch(/^error: executor failed running .*exit code: 3$/)
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'log', stream: 'stderr', line: 'to stderr' }),
    )
    expect(events.filter((e) => e.type === 'step-error')).toHaveLength(1)
  })
})

describe('BuildProgress failure detection', () => {
  it('fails when the stream ends without an image id', () => {
    const v = { digest: 'sha256:1', name: '[1/1] FROM scratch', started: ts, completed: ts }
    const { outcome } = run(Buffer.from(trace({ vertexes: [v] })))
    expect(outcome).toMatchObject({
      code: 'E_BUILD_FAILED',
      message: 'Build ended without an image id',
    })
  })

  it('fails on an errorDetail line even when no step failed', () => {
    const line = JSON.stringify({
      errorDetail: { message: 'dockerfile parse error line 1: unknown instruction: FOO' },
    })
    const { outcome } = run(Buffer.from(imageId + line + '\n'))
    expect(outcome).toMatchObject({
      code: 'E_BUILD_FAILED',
      message: 'Build failed',
      details: ['error: dockerfile parse error line 1: unknown instruction: FOO'],
    })
  })

  it('fails on a vertex error even if an image id arrived', () => {
    const v = {
      digest: 'sha256:2',
      name: '[2/2] RUN false',
      started: ts,
      completed: ts,
      error: 'exit code: 1',
    }
    const { outcome } = run(Buffer.from(trace({ vertexes: [v] }) + imageId))
    expect(outcome).toMatchObject({
      code: 'E_BUILD_FAILED',
      message: 'Build failed at step "[2/2] RUN false"',
    })
  })

  it('reports the first failing step, not the ones cancelled after it', () => {
    const a = {
      digest: 'sha256:a',
      name: 'step a',
      started: ts,
      completed: ts,
      error: 'exit code: 2',
    }
    const b = {
      digest: 'sha256:b',
      name: 'step b',
      started: ts,
      completed: ts,
      error: 'context canceled',
    }
    const { outcome } = run(Buffer.from(trace({ vertexes: [a] }) + trace({ vertexes: [b] })))
    expect(outcome).toMatchObject({ message: 'Build failed at step "step a"' })
  })
})

describe('BuildProgress logs and secrets', () => {
  const step = {
    digest: 'sha256:3',
    name: '[2/2] RUN --mount=type=secret,id=secret_0 use-it',
    started: ts,
  }
  const log = (msg: string, stream = 1) => ({ vertex: 'sha256:3', stream, msg: Buffer.from(msg) })

  it('joins log lines split across messages, including split UTF-8 characters', () => {
    const bytes = Buffer.from('h\u00e9llo\n')
    const body =
      trace({ vertexes: [step] }) +
      trace({ logs: [{ vertex: 'sha256:3', stream: 1, msg: bytes.subarray(0, 2) }] }) +
      trace({
        logs: [
          { vertex: 'sha256:3', stream: 1, msg: bytes.subarray(2) },
          log('tail without newline', 2),
        ],
      }) +
      imageId
    const { events } = run(Buffer.from(body))
    const lines = events.flatMap((e) => (e.type === 'log' ? [[e.stream, e.line]] : []))
    expect(lines).toEqual([
      ['stdout', 'h\u00e9llo'],
      ['stderr', 'tail without newline'],
    ])
  })

  it('replaces secret values in logs, step names, warnings and errors with ***', () => {
    const secret = 's3cr3t-t0ken'
    const scrub = makeScrubber([Buffer.from(secret + '\n')])
    const body =
      trace({ vertexes: [{ ...step, name: `[2/2] RUN echo ${secret}` }] }) +
      trace({ logs: [log('token is s3cr3t-'), log('t0ken!\n')] }) +
      trace({
        warnings: [
          { vertex: 'sha256:3', short: Buffer.from(`w ${secret}`), detail: [Buffer.from(secret)] },
        ],
      }) +
      trace({
        vertexes: [
          { ...step, name: `[2/2] RUN echo ${secret}`, completed: ts, error: `failed: ${secret}` },
        ],
      }) +
      JSON.stringify({ errorDetail: { message: `failed: ${secret}` } }) +
      '\n'
    const { events, outcome } = run(Buffer.from(body), 5, scrub)
    const all =
      JSON.stringify(events) +
      JSON.stringify(outcome) +
      JSON.stringify((outcome as ImagespecError).details)
    expect(all).not.toContain('s3cr3t')
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', line: 'token is ***!' }))
    expect(outcome).toMatchObject({ message: 'Build failed at step "[2/2] RUN echo ***"' })
  })
})
