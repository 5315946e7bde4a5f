import { describe, expect, it } from 'vitest'
import { imageExporter } from './driver.js'

describe('the Solve request exporter', () => {
  it("is the engine's own (moby) on a Docker engine's BuildKit, whatever push asks", () => {
    expect(imageExporter('dockerd', ['r/app:t'], false, false)).toEqual({
      Exporter: 'moby',
      ExporterAttrs: { name: 'r/app:t' },
    })
    expect(imageExporter('dockerd', ['r/app'], true, true).ExporterAttrs).toEqual({ name: 'r/app' })
  })

  it('is the image exporter on a buildkitd, pushing by tag, or by digest only with push-by-digest and name-canonical', () => {
    expect(imageExporter('tcp', ['r/app:t'], true, false)).toEqual({
      Exporter: 'image',
      ExporterAttrs: { name: 'r/app:t', push: 'true' },
    })
    expect(imageExporter('unix', ['r/app'], true, true)).toEqual({
      Exporter: 'image',
      ExporterAttrs: {
        name: 'r/app',
        push: 'true',
        'push-by-digest': 'true',
        'name-canonical': 'true',
      },
    })
    expect(imageExporter('tcp', ['r/app'], false, true).ExporterAttrs).toEqual({
      name: 'r/app',
      push: 'false',
    })
    expect(imageExporter('tcp', [], true, true)).toEqual({ Exporter: '', ExporterAttrs: {} })
  })
})
