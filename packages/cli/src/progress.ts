import type { BuilderEvent } from '@imagespec/spec'
import { pc } from './_colors.js'
import { printable } from './_sanitize.js'
import type { Io } from './io.js'

export type ProgressMode = 'auto' | 'plain' | 'json'

export interface Progress {
  onEvent(event: BuilderEvent): void
  /** Stops the live display (final frame stays on screen). */
  close(): void
}

/**
 * flytekit's lines (notices) go to stdout verbatim, warnings to stderr as `UserWarning: …`. Build progress goes
 * to stderr: a live display like buildx's on a terminal, `#N …` lines otherwise, or every event as a JSON line on
 * stdout with `--progress json`.
 */
export function createProgress(mode: ProgressMode, io: Io): Progress {
  if (mode === 'json') {
    return { onEvent: (e) => io.stdout.write(JSON.stringify(e) + '\n'), close: () => undefined }
  }
  const live = mode === 'auto' && io.stderr.isTTY === true && io.env.TERM !== 'dumb'
  return live ? ttyProgress(io) : plainProgress(io)
}

function notice(
  io: Io,
  e: Extract<BuilderEvent, { type: 'notice' }>,
  before: () => void,
  after: () => void,
) {
  before()
  if (e.level === 'warn') io.stderr.write(`${pc.yellow('UserWarning:')} ${printable(e.text)}\n`)
  else io.stdout.write(`${e.level === 'error' ? pc.red(e.text) : pc.blue(e.text)}\n`)
  after()
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

function summary(e: Extract<BuilderEvent, { type: 'result' | 'pushed' }>): string {
  if (e.type === 'pushed') return `${pc.green('✔')} pushed ${e.ref} ${pc.dim(e.digest)}`
  return `${pc.green('✔')} built ${e.tags.join(', ')} in ${seconds(e.durationMs)} ${pc.dim(`(${e.steps.total} steps, ${e.steps.cached} cached)`)}`
}

/** `linux/arm64: building on unix:///… (emulated)`, `linux/amd64: present sha256:…`, `linux/arm64: built sha256:…`. */
function platformLine(e: Extract<BuilderEvent, { type: 'platform' }>): string {
  if (e.status === 'building')
    return `${pc.bold(e.platform)}: building on ${e.engine}${e.emulated ? ' (emulated)' : ''}`
  return `${pc.bold(e.platform)}: ${e.status}${e.digest ? ` ${pc.dim(e.digest)}` : ''}`
}

function plainProgress(io: Io): Progress {
  const ids = new Map<string, number>()
  const started = new Map<string, number>()
  const n = (digest: string) => {
    if (!ids.has(digest)) ids.set(digest, ids.size + 1)
    return `#${ids.get(digest)}`
  }
  let prefix = ''
  const err = (s: string) => io.stderr.write(prefix + s + '\n')
  return {
    onEvent(e) {
      // Steps of different platforms' builds are numbered apart: one build's digests never name another's steps.
      prefix = e.platform && e.type !== 'platform' ? `[${e.platform}] ` : ''
      switch (e.type) {
        case 'notice':
          return notice(
            io,
            e,
            () => undefined,
            () => undefined,
          )
        case 'platform':
          return err(platformLine(e))
        case 'step-started':
          started.set(e.step.digest, Date.now())
          return err(`${n(e.step.digest)} ${e.step.name}`)
        case 'step-cached':
          return err(`${n(e.step.digest)} ${e.step.name} CACHED`)
        case 'step-completed':
          return err(
            `${n(e.step.digest)} DONE ${seconds(e.durationMs ?? Date.now() - (started.get(e.step.digest) ?? Date.now()))}`,
          )
        case 'step-error':
          return err(`${n(e.step.digest)} ${pc.red(`ERROR: ${e.error}`)}`)
        case 'log':
          return err(`${n(e.step.digest)} ${e.line}`)
        case 'warning':
          return err(`${pc.yellow('WARNING:')} ${e.message}`)
        case 'message':
          return err(e.text.trimEnd())
        case 'result':
        case 'pushed':
          return err(summary(e))
        default:
          return undefined
      }
    },
    close: () => undefined,
  }
}

interface StepView {
  name: string
  state: 'running' | 'cached' | 'done' | 'error'
  start: number
  end?: number
  logs: string[]
}

function ttyProgress(io: Io): Progress {
  const steps = new Map<string, StepView>()
  const done: string[] = []
  let drawn = 0
  let timer: NodeJS.Timeout | undefined
  let pushing = ''
  const width = () => Math.max(40, (io.stderr.columns ?? 100) - 1)
  const clip = (s: string) => (s.length > width() ? s.slice(0, width() - 1) + '…' : s)

  const clear = () => {
    if (drawn > 0) io.stderr.write(`\x1b[${drawn}A\x1b[J`)
    drawn = 0
  }
  const draw = () => {
    clear()
    const lines: string[] = []
    const now = Date.now()
    for (const s of steps.values()) {
      const time = s.state === 'cached' ? 'CACHED' : seconds((s.end ?? now) - s.start)
      const mark =
        s.state === 'error' ? pc.red('✖') : s.state === 'running' ? pc.cyan('=>') : pc.dim('=>')
      lines.push(clip(`${mark} ${s.name}`) + '  ' + (s.state === 'running' ? time : pc.dim(time)))
      if (s.state === 'running' || s.state === 'error')
        for (const l of s.logs.slice(-5)) lines.push(pc.dim(clip(`   ${l}`)))
    }
    if (pushing) lines.push(clip(`${pc.cyan('=>')} ${pushing}`))
    for (const l of lines) io.stderr.write(l + '\n')
    drawn = lines.length
  }
  const schedule = () => {
    timer ??= setInterval(draw, 100)
  }
  const step = (digest: string, name: string) => {
    let s = steps.get(digest)
    if (!s) {
      s = { name, state: 'running', start: Date.now(), logs: [] }
      steps.set(digest, s)
    }
    return s
  }

  return {
    onEvent(event) {
      const e =
        event.platform && 'step' in event && event.step
          ? {
              ...event,
              step: {
                digest: `${event.platform} ${event.step.digest}`,
                name: `[${event.platform}] ${event.step.name}`,
              },
            }
          : event
      switch (e.type) {
        case 'notice':
          return notice(io, e, clear, draw)
        case 'platform':
          clear()
          io.stderr.write(platformLine(e) + '\n')
          return draw()
        case 'step-started':
          step(e.step.digest, e.step.name)
          return schedule()
        case 'step-cached':
          step(e.step.digest, e.step.name).state = 'cached'
          return
        case 'step-completed': {
          const s = step(e.step.digest, e.step.name)
          if (s.state === 'running') s.state = 'done'
          s.end = Date.now()
          return
        }
        case 'step-error': {
          const s = step(e.step.digest, e.step.name)
          s.state = 'error'
          s.end = Date.now()
          return
        }
        case 'log':
          step(e.step.digest, e.step.name).logs.push(e.line)
          return
        case 'push-progress':
          pushing = `pushing ${e.layer ? `${e.layer.slice(0, 12)} ` : ''}${e.status}`
          return schedule()
        case 'result':
        case 'pushed':
          if (e.type === 'pushed') pushing = ''
          draw()
          done.push(summary(e))
          return
        default:
          return undefined
      }
    },
    close() {
      if (timer) clearInterval(timer)
      if (steps.size > 0) draw()
      for (const l of done) io.stderr.write(l + '\n')
    },
  }
}
