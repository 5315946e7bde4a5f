import { describe, expect, it } from 'vitest'
import { parseWwwAuthenticate } from './_www-authenticate.js'

describe('parseWwwAuthenticate', () => {
  it('parses a distribution Bearer challenge', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/python:pull',
        },
      },
    ])
  })

  it('parses Basic and is case-insensitive on scheme and names', () => {
    expect(parseWwwAuthenticate('BASIC Realm="test-registry"')).toEqual([
      { scheme: 'basic', params: { realm: 'test-registry' } },
    ])
  })

  it('splits several challenges in one header, with commas and escapes inside quoted strings', () => {
    const h =
      'Bearer realm="https://a/token",scope="repository:a:pull,push", error="insufficient_scope" , Basic realm="say \\"hi\\", ok", Negotiate abc==, Bare'
    expect(parseWwwAuthenticate(h)).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://a/token',
          scope: 'repository:a:pull,push',
          error: 'insufficient_scope',
        },
      },
      { scheme: 'basic', params: { realm: 'say "hi", ok' } },
      { scheme: 'negotiate', params: { token68: 'abc==' } },
      { scheme: 'bare', params: {} },
    ])
  })

  it('accepts token values, spaces around "=", and several header lines', () => {
    expect(parseWwwAuthenticate(['Bearer realm = tok, service=reg', 'Basic realm=r'])).toEqual([
      { scheme: 'bearer', params: { realm: 'tok', service: 'reg' } },
      { scheme: 'basic', params: { realm: 'r' } },
    ])
  })

  it('keeps what it parsed before garbage and never throws', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://x/t", service="unterminated')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://x/t' } },
    ])
    expect(parseWwwAuthenticate('"junk"')).toEqual([])
    expect(parseWwwAuthenticate('')).toEqual([])
    expect(parseWwwAuthenticate(undefined)).toEqual([])
  })
})
