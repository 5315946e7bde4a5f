import { describe, expect, it } from 'vitest'
import { formatPlatform, parsePlatform, platformMatches } from './_platform.js'

const m = (want: string, have: string) => platformMatches(parsePlatform(want), parsePlatform(have))

describe('platforms', () => {
  it('parses and formats os/arch[/variant]', () => {
    expect(parsePlatform('linux/arm64/v8')).toEqual({
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
    })
    expect(formatPlatform(parsePlatform('linux/amd64'))).toBe('linux/amd64')
    for (const bad of ['linux', 'linux/', 'a/b/c/d', 'linux/amd 64'])
      expect(() => parsePlatform(bad)).toThrow(
        expect.objectContaining({ code: 'E_CONFIG_INVALID' }),
      )
  })

  it('matches as containerd normalises', () => {
    expect(m('linux/amd64', 'linux/amd64')).toBe(true)
    expect(m('linux/amd64', 'linux/arm64')).toBe(false)
    expect(m('linux/arm64', 'linux/arm64/v8')).toBe(true)
    expect(m('linux/arm64/v8', 'linux/arm64')).toBe(true)
    expect(m('linux/aarch64', 'linux/arm64/v8')).toBe(true)
    expect(m('linux/x86_64', 'linux/amd64')).toBe(true)
    expect(m('linux/arm', 'linux/arm/v7')).toBe(true)
    expect(m('linux/arm', 'linux/arm/v6')).toBe(false)
    expect(m('linux/arm/v6', 'linux/arm/6')).toBe(true)
    expect(m('windows/amd64', 'linux/amd64')).toBe(false)
  })
})
