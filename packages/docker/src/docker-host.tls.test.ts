import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createDockerode, parseDockerHost, tlsConnectionError } from './docker-host.js'

const tls = parseDockerHost('tcp://d.example:2376', {
  DOCKER_TLS_VERIFY: '1',
  DOCKER_CERT_PATH: '/certs',
})
const plain = parseDockerHost('tcp://d.example:2376', {})
const err = (code: string, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { code }, extra)

// The real engine behind a TLS front covers the common cases (test/remote-tls.int.test.ts); these are the answers a
// Node front cannot give but dockerd does.
describe('tlsConnectionError', () => {
  it('explains a TLS alert from the engine (client certificate refused)', () => {
    const e = tlsConnectionError(
      tls,
      err(
        'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
        'C0B7:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../ssl/rec_layer_s3.c:1605:',
      ),
    )
    expect(e).toMatchObject({
      code: 'E_ENGINE_UNAVAILABLE',
      message:
        'Cannot reach the Docker engine at "tcp://d.example:2376": the TLS handshake failed (sslv3 alert bad certificate)',
      hint:
        'If the engine checks client certificates, it must accept "/certs/cert.pem" (and its key.pem): ' +
        'is it issued by a CA the engine trusts?',
      field: 'DOCKER_CERT_PATH',
    })
  })

  it('explains a host name that the engine certificate does not name', () => {
    const e = tlsConnectionError(
      tls,
      err(
        'ERR_TLS_CERT_ALTNAME_INVALID',
        "Hostname/IP does not match certificate's altnames: Host: d.example. is not in …",
      ),
    )
    expect(e).toMatchObject({
      code: 'E_ENGINE_UNAVAILABLE',
      message: expect.stringContaining(
        ': TLS certificate verification failed: Hostname/IP does not match',
      ),
      hint: 'The engine\'s certificate must be issued by the CA in "/certs/ca.pem" and name the host "d.example"',
    })
  })

  it('explains the port speaking TLS only when it is a plain HTTP host', () => {
    expect(
      tlsConnectionError(plain, { statusCode: 400, message: '(HTTP code 400) unexpected' }),
    ).toMatchObject({
      message:
        'Cannot reach the Docker engine at "tcp://d.example:2376": it answered 400 to a plain HTTP request',
      field: 'DOCKER_TLS_VERIFY',
    })
    expect(tlsConnectionError(tls, { statusCode: 400, message: 'bad parameter' })).toBeUndefined()
    expect(tlsConnectionError(plain, err('ECONNREFUSED', 'connect ECONNREFUSED'))).toBeUndefined()
  })

  it('leaves other failures alone', () => {
    expect(tlsConnectionError(tls, err('ECONNREFUSED', 'connect ECONNREFUSED'))).toBeUndefined()
    expect(
      tlsConnectionError(tls, err('ENOTFOUND', 'getaddrinfo ENOTFOUND d.example')),
    ).toBeUndefined()
    expect(tlsConnectionError(tls, { statusCode: 500, message: 'server error' })).toBeUndefined()
    const reset = err('ECONNRESET', 'socket hang up')
    expect(tlsConnectionError(parseDockerHost('unix:///x.sock', {}), reset)).toBeUndefined()
    expect(tlsConnectionError(parseDockerHost('ssh://u@h', {}), reset)).toBeUndefined()
  })
})

describe('createDockerode', () => {
  afterEach(() => vi.unstubAllEnvs())

  it('turns a broken DOCKER_CERT_PATH that docker-modem reads from process.env into E_CONFIG_INVALID', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imagespec-certs-'))
    try {
      writeFileSync(join(dir, 'ca.pem'), 'not a certificate')
      // TLS is off (no DOCKER_TLS_VERIFY), so imagespec itself never reads these files; docker-modem still does
      vi.stubEnv('DOCKER_HOST', 'tcp://127.0.0.1:2375')
      vi.stubEnv('DOCKER_CERT_PATH', dir)
      const target = parseDockerHost(process.env.DOCKER_HOST, process.env)
      expect(target.protocol).toBe('http')
      expect(() => createDockerode(target)).toThrow(
        expect.objectContaining({
          code: 'E_CONFIG_INVALID',
          message: expect.stringMatching(
            new RegExp(`^Cannot use the Docker TLS files in "${dir}" \\(from the environment\\): `),
          ),
          field: 'DOCKER_CERT_PATH',
        }),
      )
      writeFileSync(
        join(dir, 'ca.pem'),
        '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      )
      expect(() => createDockerode(target)).toThrow(
        expect.objectContaining({
          code: 'E_CONFIG_INVALID',
          message: expect.stringContaining(join(dir, 'cert.pem')),
        }),
      )
      vi.stubEnv('DOCKER_CERT_PATH', '')
      expect(createDockerode(target).modem).toMatchObject({
        host: '127.0.0.1',
        port: 2375,
        protocol: 'http',
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
