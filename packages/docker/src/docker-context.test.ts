// Docker contexts resolved as the docker CLI does, from a DOCKER_CONFIG written by the test.
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createDockerClient, resolveDockerEndpoint } from './index.js'

const dir = mkdtempSync(join(tmpdir(), 'imagespec-ctx-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function context(name: string, host: string, tls = false) {
  const id = createHash('sha256').update(name).digest('hex')
  mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true })
  writeFileSync(
    join(dir, 'contexts', 'meta', id, 'meta.json'),
    JSON.stringify({
      Name: name,
      Metadata: {},
      Endpoints: { docker: { Host: host, SkipTLSVerify: false } },
    }),
  )
  if (tls) {
    mkdirSync(join(dir, 'contexts', 'tls', id, 'docker'), { recursive: true })
    writeFileSync(join(dir, 'contexts', 'tls', id, 'docker', 'ca.pem'), 'x')
  }
}
context('second', 'unix:///tmp/i14-second.sock')
context('remote', 'tcp://127.0.0.1:2376', true)
writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: 'second' }))

describe('resolveDockerEndpoint', () => {
  it('takes DOCKER_HOST first, then DOCKER_CONTEXT, then currentContext', () => {
    expect(
      resolveDockerEndpoint({
        DOCKER_CONFIG: dir,
        DOCKER_HOST: 'unix:///x.sock',
        DOCKER_CONTEXT: 'remote',
      }),
    ).toMatchObject({ host: 'unix:///x.sock', context: 'default' })
    expect(resolveDockerEndpoint({ DOCKER_CONFIG: dir })).toMatchObject({
      host: 'unix:///tmp/i14-second.sock',
      context: 'second',
    })
    expect(createDockerClient({ env: { DOCKER_CONFIG: dir } }).host.address).toBe(
      'unix:///tmp/i14-second.sock',
    )
    expect(resolveDockerEndpoint({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'default' })).toEqual(
      expect.objectContaining({ context: 'default' }),
    )
  })

  it("uses a context's TLS files as DOCKER_CERT_PATH with verification", () => {
    const e = resolveDockerEndpoint({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'remote' })
    expect(e.env.DOCKER_CERT_PATH).toMatch(/contexts\/tls\/[0-9a-f]{64}\/docker$/)
    expect(e.env.DOCKER_TLS_VERIFY).toBe('1')
  })

  it('refuses an unknown context with E_CONFIG_INVALID, and takes the default socket without any config', () => {
    expect(() => resolveDockerEndpoint({ DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'nope' })).toThrow(
      expect.objectContaining({
        code: 'E_CONFIG_INVALID',
        message: 'Docker context "nope" not found',
      }),
    )
    expect(resolveDockerEndpoint({ DOCKER_CONFIG: join(dir, 'none') })).toEqual(
      expect.objectContaining({ context: 'default' }),
    )
  })
})
