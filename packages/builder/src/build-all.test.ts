import { describe, expect, it } from 'vitest'
import { defineBuilder, ImagespecError, specFromObject, type BuildRequest } from '@imagespec/spec'
import { buildAll } from './build-all.js'
import { createEngine } from './engine.js'

/** An engine whose one builder records the builds, running at most `seen` at once, failing images named `fail*`. */
function recordingEngine() {
  const started: string[] = []
  let running = 0
  let peak = 0
  const engine = createEngine({ builtins: false })
  engine.register(
    defineBuilder(() => ({
      name: 'rec',
      contractVersion: 1,
      capabilities: { cacheMounts: false, secrets: false, multiPlatform: false, push: false },
      shouldBuild: async () => true,
      async build(req: BuildRequest) {
        started.push(req.loaded.spec.name)
        running++
        peak = Math.max(peak, running)
        await new Promise((r) => setTimeout(r, 20))
        running--
        if (req.loaded.spec.name.startsWith('fail'))
          throw new ImagespecError('E_BUILD_FAILED', `${req.loaded.spec.name} broke`)
        return {}
      },
    }))(undefined),
    1,
  )
  return { engine, started, peak: () => peak }
}
const spec = (o: Record<string, unknown>) =>
  specFromObject({ builder: 'rec', ...o }, { cwd: '/', env: {} })

describe('buildAll', () => {
  it('builds each distinct image once, nested bases first, at most `concurrency` at a time', async () => {
    const { engine, started, peak } = recordingEngine()
    const base = { name: 'base', builder: 'rec', base_image: 'scratch:1' }
    const entries = await buildAll(
      engine,
      [
        spec({ name: 'a', base_image: base }),
        spec({ name: 'b', base_image: base }),
        spec(base),
        spec({ name: 'c' }),
        spec({ name: 'd' }),
      ],
      { concurrency: 2 },
    )
    expect(entries.map((e) => e.loaded.spec.name)).toEqual(['base', 'a', 'b', 'c', 'd'])
    expect(entries.every((e) => e.status === 'done')).toBe(true)
    expect(started.filter((n) => n === 'base').length).toBeGreaterThanOrEqual(1)
    expect(started.indexOf('base')).toBeLessThan(started.indexOf('a'))
    expect(started.indexOf('base')).toBeLessThan(started.indexOf('b'))
    expect(peak()).toBeLessThanOrEqual(2)
  })

  it('a failure blocks only the images built on it; the others still build', async () => {
    const { engine, started } = recordingEngine()
    const entries = await buildAll(engine, [
      spec({ name: 'on-fail', base_image: { name: 'fail-base', builder: 'rec' } }),
      spec({ name: 'fine' }),
    ])
    expect(entries.map((e) => [e.loaded.spec.name, e.status])).toEqual([
      ['fail-base', 'failed'],
      ['on-fail', 'blocked'],
      ['fine', 'done'],
    ])
    expect(entries[1].blockedBy).toBe(entries[0].imageName)
    expect(started).not.toContain('on-fail')
  })
})
