import { writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import { dockerodeOptions, parseDockerHost } from './docker-host.js'
import {
  fingerprint,
  GLOBAL_KNOWN_HOSTS,
  hostsFieldMatches,
  knownHostsFiles,
  knownHostsName,
  parseKnownHosts,
  sshFailure,
  sshOptions,
  verifyHostKey,
} from './_ssh.js'

// ssh-keygen -t ed25519 keys, and `ssh-keygen -H` of "[build.example]:2222 …" and "build.example …"
const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIOUzB2EheU5jHgTZWx2c/WYU8mT8LIFM9K0H1WYHUyIM'
const KEY_FINGERPRINT = 'SHA256:wEczsM7sKIGN0Ph9XQs3pS09mjowMOFCcSzprCe3yIc'
const OTHER = 'AAAAC3NzaC1lZDI1NTE5AAAAIDQWLPwcpGHBKKAjCeIX92Mukz897brzpfBSakDdf1lO'
const HASHED_2222 = '|1|9qOoyIZH8KVzphXMNCuj9V66sBw=|4yvyK2hQ6FJ2dx3yceEc8Zy2dN4='
const HASHED_22 = '|1|PIMry0jfRbeY+U+iibDWsyAEmk0=|z4C8McHbpx/Enm8EKXJeQZYKgig='
const key = Buffer.from(KEY, 'base64')
// an ssh-rsa blob: only its type name matters here
const KEY_AS_RSA = Buffer.concat([
  Buffer.from([0, 0, 0, 7]),
  Buffer.from('ssh-rsa'),
  Buffer.alloc(8),
]).toString('base64')

const target = (port = 2222, username: string | undefined = 'me') => ({
  host: 'build.example',
  port,
  username,
  address: `ssh://${username ? `${username}@` : ''}build.example:${port}`,
})

function knownHosts(text: string): string {
  const file = join(useTempDir('imagespec-known-hosts-'), 'known_hosts')
  writeFileSync(file, text)
  return file
}

describe('known_hosts matching', () => {
  it('names a host as ssh does: plain on port 22, [host]:port otherwise, in lower case', () => {
    expect(knownHostsName('Build.Example', 22)).toBe('build.example')
    expect(knownHostsName('build.example', 2222)).toBe('[build.example]:2222')
    expect(knownHostsName('::1', 2222)).toBe('[::1]:2222')
  })

  it.each([
    ['build.example', 'build.example', true],
    ['other,build.example', 'build.example', true],
    ['BUILD.example', 'build.example', true],
    ['build.example', '[build.example]:2222', false],
    ['[build.example]:2222', '[build.example]:2222', true],
    ['[build.example]:2223', '[build.example]:2222', false],
    ['*.example', 'build.example', true],
    ['[*.example]:2222', '[build.example]:2222', true],
    ['buil?.example', 'build.example', true],
    ['*.example,!build.example', 'build.example', false],
    ['!build.example,*', 'build.example', false],
    ['*', '[build.example]:2222', true],
    ['b.ex', 'bxex', false], // "." is literal
    [HASHED_2222, '[build.example]:2222', true],
    [HASHED_2222, 'build.example', false],
    [HASHED_22, 'build.example', true],
    ['|1|broken', 'build.example', false],
  ])('hosts field %j matches %j: %s', (hosts, name, expected) => {
    expect(hostsFieldMatches(hosts, name)).toBe(expected)
  })

  it('parses key lines with their markers and line numbers, skipping comments and malformed lines', () => {
    const text = [
      '# comment',
      '',
      `build.example ssh-ed25519 ${KEY} a comment`,
      `@revoked * ssh-ed25519 ${OTHER}`,
      `@cert-authority *.example ssh-ed25519 ${OTHER}`,
      `@unknown-marker x ssh-ed25519 ${KEY}`,
      `x ssh-rsa ${KEY}`, // the blob says ssh-ed25519
      'x ssh-ed25519 not-base64!',
      'x ssh-ed25519',
      `  [build.example]:2222\tssh-ed25519   ${KEY}  `,
    ].join('\n')
    expect(
      parseKnownHosts(text, 'f').map(({ line, marker, hosts, type }) => ({
        line,
        marker,
        hosts,
        type,
      })),
    ).toEqual([
      { line: 3, marker: undefined, hosts: 'build.example', type: 'ssh-ed25519' },
      { line: 4, marker: '@revoked', hosts: '*', type: 'ssh-ed25519' },
      { line: 5, marker: '@cert-authority', hosts: '*.example', type: 'ssh-ed25519' },
      { line: 10, marker: undefined, hosts: '[build.example]:2222', type: 'ssh-ed25519' },
    ])
  })

  it('prints fingerprints as ssh-keygen -l does', () => {
    expect(fingerprint(key)).toBe(KEY_FINGERPRINT)
  })
})

describe('verifyHostKey', () => {
  it('accepts a key listed for the host, plain or hashed, in any of the files', () => {
    expect(() =>
      verifyHostKey(target(), key, [knownHosts(`[build.example]:2222 ssh-ed25519 ${KEY}\n`)]),
    ).not.toThrow()
    expect(() =>
      verifyHostKey(target(22), key, [knownHosts(`${HASHED_22} ssh-ed25519 ${KEY}\n`)]),
    ).not.toThrow()
    const files = [
      '/nonexistent/known_hosts',
      knownHosts(''),
      knownHosts(`${HASHED_2222} ssh-ed25519 ${KEY}\n`),
    ]
    expect(() => verifyHostKey(target(), key, files)).not.toThrow()
  })

  it('refuses a host that no file lists, naming the host, the key, the files and how to record it', () => {
    const file = knownHosts(`build.example ssh-ed25519 ${KEY}\n`) // port 22 only
    expect(() => verifyHostKey(target(), key, [file, '/nonexistent'])).toThrow(
      expect.objectContaining({
        code: 'E_ENGINE_UNAVAILABLE',
        message:
          `The SSH host key of [build.example]:2222 (ssh-ed25519 key ${KEY_FINGERPRINT}) ` +
          `is not in ${file} or /nonexistent`,
        hint: expect.stringContaining('ssh -p 2222 me@build.example'),
      }),
    )
  })

  it('refuses a changed key, naming the file and line that hold the old one', () => {
    const file = knownHosts(`# old\n[build.example]:2222 ssh-ed25519 ${OTHER}\n`)
    expect(() => verifyHostKey(target(), key, [file])).toThrow(
      expect.objectContaining({
        message:
          `The SSH host key of [build.example]:2222 has changed: the server presented the ssh-ed25519 key ` +
          `${KEY_FINGERPRINT}, ${file} line 2 holds another one`,
        hint: expect.stringContaining(`ssh-keygen -R "[build.example]:2222" -f ${file}`),
      }),
    )
  })

  it('treats a key of a type known_hosts does not list for the host as unknown', () => {
    const file = knownHosts(`[build.example]:2222 ssh-rsa ${KEY_AS_RSA}\n`)
    expect(() => verifyHostKey(target(), key, [file])).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/ \(it lists only ssh-rsa keys for it\)$/),
      }),
    )
  })

  it('refuses a key marked @revoked for the host, even when another line lists it', () => {
    const file = knownHosts(
      `[build.example]:2222 ssh-ed25519 ${KEY}\n@revoked *.example* ssh-ed25519 ${KEY}\n`,
    )
    expect(() => verifyHostKey(target(), key, [file])).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/is marked @revoked in .* line 2$/),
      }),
    )
  })

  it('fails clearly on a known_hosts file it cannot read', () => {
    const dir = useTempDir('imagespec-known-hosts-')
    expect(() => verifyHostKey(target(), key, [dir])).toThrow(
      expect.objectContaining({
        code: 'E_CONFIG_INVALID',
        message: `Cannot read the SSH known_hosts file "${dir}"`,
      }),
    )
  })
})

describe('ssh connect options', () => {
  it('reads $HOME/.ssh/known_hosts and the global file, or IMAGESPEC_SSH_KNOWN_HOSTS alone', () => {
    expect(knownHostsFiles({ HOME: '/home/me' })).toEqual([
      '/home/me/.ssh/known_hosts',
      GLOBAL_KNOWN_HOSTS,
    ])
    expect(knownHostsFiles({ HOME: '/home/me', IMAGESPEC_SSH_KNOWN_HOSTS: '/kh' })).toEqual(['/kh'])
  })

  it('verifies the host key, takes the agent from SSH_AUTH_SOCK, and prefers the key types known_hosts lists', () => {
    const file = knownHosts(
      `[build.example]:2222 ssh-rsa ${KEY_AS_RSA}\n[build.example]:2222 ssh-ed25519 ${KEY}\n`,
    )
    const options = sshOptions(target(), {
      SSH_AUTH_SOCK: '/agent',
      IMAGESPEC_SSH_KNOWN_HOSTS: file,
    })
    expect(options).toMatchObject({ agent: '/agent', hostVerifier: expect.any(Function) })
    const preferred = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']
    expect(options.algorithms).toEqual({
      serverHostKey: { remove: preferred, prepend: preferred, append: [] },
    })
    const verify = options.hostVerifier as (key: Buffer) => boolean
    expect(verify(key)).toBe(true)
    const changed = expect.objectContaining({ code: 'E_ENGINE_UNAVAILABLE' })
    expect(() => verify(Buffer.from(OTHER, 'base64'))).toThrow(changed)

    const none = sshOptions(target(), { IMAGESPEC_SSH_KNOWN_HOSTS: '/nonexistent' })
    expect(none.agent).toBeUndefined()
    expect(none.algorithms).toBeUndefined()
  })

  it('logs in as the local user when the address names none', () => {
    const opts = dockerodeOptions(parseDockerHost('ssh://build.example', {}), {
      IMAGESPEC_SSH_KNOWN_HOSTS: '/x',
    })
    expect(opts).toMatchObject({
      protocol: 'ssh',
      host: 'build.example',
      port: 22,
      username: userInfo().username,
    })
  })
})

describe('sshFailure', () => {
  const host = parseDockerHost('ssh://me@build.example:2222', {})
  const ssh2Error = (message: string, level: string, code?: string) =>
    Object.assign(new Error(message), { level, code })
  const at = 'build.example:2222'

  it.each([
    [
      'All configured authentication methods failed',
      'client-authentication',
      undefined,
      `The SSH server at ${at} refused the login as "me"`,
    ],
    [
      'Failed to connect to agent',
      'agent',
      undefined,
      `Cannot use the ssh-agent to sign in to ${at}: Failed to connect to agent`,
    ],
    [
      'Timed out while waiting for handshake',
      'client-timeout',
      undefined,
      `Timed out connecting to the SSH server at ${at} (no login within 20 s)`,
    ],
    [
      'connect ECONNREFUSED 10.0.0.1:2222',
      'client-socket',
      'ECONNREFUSED',
      `Cannot connect to the SSH server at ${at} (ECONNREFUSED)`,
    ],
    [
      'Handshake failed: no matching key exchange algorithm',
      'handshake',
      undefined,
      `The SSH connection to ${at} failed: Handshake failed: no matching key exchange algorithm`,
    ],
  ])('maps ssh2 "%s" (%s)', (message, level, code, expected) => {
    const err = ssh2Error(message, level, code)
    expect(sshFailure(host, err)).toMatchObject({
      code: 'E_ENGINE_UNAVAILABLE',
      message: expected,
      cause: err,
    })
  })

  it('explains a hang-up after the login (no ssh2 level): the remote dial-stdio did not answer', () => {
    expect(
      sshFailure(host, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
    ).toMatchObject({
      message:
        'Cannot reach the Docker engine at "ssh://me@build.example:2222": ' +
        'docker system dial-stdio on the host ended without an answer',
      hint: expect.stringContaining('The SSH login as "me" worked'),
    })
  })

  it('leaves other errors and other hosts alone', () => {
    const http500 = Object.assign(new Error('(HTTP code 500) server error'), { statusCode: 500 })
    expect(sshFailure(host, http500)).toBeUndefined()
    expect(sshFailure(host, 'not an error')).toBeUndefined()
    expect(
      sshFailure(parseDockerHost('tcp://h:2375', {}), ssh2Error('x', 'client-authentication')),
    ).toBeUndefined()
  })
})
