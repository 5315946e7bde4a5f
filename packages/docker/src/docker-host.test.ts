import { writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import { dockerodeOptions, parseDockerHost } from './docker-host.js'

describe('parseDockerHost', () => {
  it.each([
    [
      undefined,
      {},
      {
        protocol: 'unix',
        socketPath: '/var/run/docker.sock',
        address: 'unix:///var/run/docker.sock',
      },
    ],
    [
      '',
      {},
      {
        protocol: 'unix',
        socketPath: '/var/run/docker.sock',
        address: 'unix:///var/run/docker.sock',
      },
    ],
    [
      'unix:///tmp/d.sock',
      {},
      { protocol: 'unix', socketPath: '/tmp/d.sock', address: 'unix:///tmp/d.sock' },
    ],
    [
      'tcp://10.0.0.5:2375',
      {},
      { protocol: 'http', host: '10.0.0.5', port: 2375, address: 'tcp://10.0.0.5:2375' },
    ],
    [
      'tcp://docker.local',
      {},
      { protocol: 'http', host: 'docker.local', port: 2375, address: 'tcp://docker.local' },
    ],
    [
      '127.0.0.1:4243',
      {},
      { protocol: 'http', host: '127.0.0.1', port: 4243, address: 'tcp://127.0.0.1:4243' },
    ],
    [
      'tcp://[::1]:2375',
      {},
      { protocol: 'http', host: '::1', port: 2375, address: 'tcp://[::1]:2375' },
    ],
    [
      'tcp://d.example:2376',
      { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' },
      {
        protocol: 'https',
        host: 'd.example',
        port: 2376,
        certPath: '/certs',
        address: 'tcp://d.example:2376',
      },
    ],
    [
      'tcp://d.example',
      { DOCKER_TLS_VERIFY: '1' },
      {
        protocol: 'https',
        host: 'd.example',
        port: 2376,
        certPath: join(homedir(), '.docker'),
        address: 'tcp://d.example',
      },
    ],
    [
      'https://d.example',
      {},
      { protocol: 'https', host: 'd.example', port: 2376, address: 'https://d.example' },
    ],
    [
      'ssh://me@build.example:2222',
      {},
      {
        protocol: 'ssh',
        host: 'build.example',
        port: 2222,
        username: 'me',
        address: 'ssh://me@build.example:2222',
      },
    ],
    [
      'ssh://build.example',
      {},
      { protocol: 'ssh', host: 'build.example', port: 22, address: 'ssh://build.example' },
    ],
  ])('parses %j with %j', (address, env, expected) => {
    expect(parseDockerHost(address, env)).toEqual(expected)
  })

  it.each(['npipe:////./pipe/docker_engine', 'fd://', 'tcp://', 'tcp://host:2375/path', 'ftp://x'])(
    'rejects %j with E_CONFIG_INVALID',
    (address) => {
      expect(() => parseDockerHost(address, {})).toThrow(
        expect.objectContaining({ code: 'E_CONFIG_INVALID' }),
      )
    },
  )
})

describe('dockerodeOptions', () => {
  it('sets every connection field so that nothing comes from the environment', () => {
    expect(dockerodeOptions(parseDockerHost('unix:///x.sock', {}))).toMatchObject({
      socketPath: '/x.sock',
      host: undefined,
      protocol: 'http',
    })
    expect(
      dockerodeOptions(parseDockerHost('ssh://u@h', {}), { SSH_AUTH_SOCK: '/agent' }),
    ).toMatchObject({
      socketPath: undefined,
      host: 'h',
      port: 22,
      username: 'u',
      protocol: 'ssh',
      sshOptions: { agent: '/agent' },
    })
  })

  it('reads the TLS client files from DOCKER_CERT_PATH', () => {
    const dir = useTempDir('imagespec-certs-')
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), f)
    const opts = dockerodeOptions(
      parseDockerHost('tcp://h:2376', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir }),
    )
    expect(opts).toMatchObject({ protocol: 'https', host: 'h', port: 2376 })
    expect([opts.ca, opts.cert, opts.key].map(String)).toEqual(['ca.pem', 'cert.pem', 'key.pem'])
  })

  it('fails clearly when a TLS file is missing', () => {
    const target = parseDockerHost('tcp://h', {
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: '/nonexistent',
    })
    expect(() => dockerodeOptions(target)).toThrow(
      expect.objectContaining({
        code: 'E_CONFIG_INVALID',
        message: 'Cannot read the Docker TLS file "/nonexistent/ca.pem"',
      }),
    )
  })
})
