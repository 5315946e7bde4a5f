// DOCKER_HOST=ssh://… host key checking against a throwaway sshd (./_ssh.ts): known_hosts entries plain, hashed and
// patterned, key types, and the refusals (unknown, changed, revoked keys) before any login.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { failure } from './_helpers.js'
import {
  base,
  client,
  dir,
  entry,
  expectClear,
  hostEd25519,
  hostName,
  hostRsa,
  knownHosts,
  logins,
  otherHostKey,
  run,
  skipWithoutSsh,
  sshd,
  useSshFixture,
} from './_ssh.js'

describe.skipIf(await skipWithoutSsh())(
  'DOCKER_HOST=ssh:// host keys (real sshd, real engine)',
  () => {
    useSshFixture()

    describe('host key checking (known_hosts)', () => {
      it('accepts the key listed in $HOME/.ssh/known_hosts (plain [host]:port entry)', async () => {
        await expect(client().ping()).resolves.toMatchObject({ version: expect.any(String) })
      })

      it('accepts a hashed entry, and a pattern entry, from IMAGESPEC_SSH_KNOWN_HOSTS', async () => {
        const hashed = knownHosts('known_hosts.hashed', [
          entry(otherHostKey, 'example.org'),
          entry(hostEd25519),
        ])
        run('ssh-keygen', ['-q', '-H', '-f', hashed])
        const text = readFileSync(hashed, 'utf8')
        expect(text).not.toContain('127.0.0.1')
        expect(text).toMatch(/^\|1\|/m)
        const onlyHashed = { IMAGESPEC_SSH_KNOWN_HOSTS: hashed, HOME: join(dir, 'nowhere') }
        await expect(client(onlyHashed).ping()).resolves.toBeDefined()
        const pattern = knownHosts('known_hosts.pattern', [
          entry(hostEd25519, `example.org,[127.0.0.*]:${sshd.port}`),
        ])
        await expect(client({ IMAGESPEC_SSH_KNOWN_HOSTS: pattern }).ping()).resolves.toBeDefined()
      })

      it('asks for a key type known_hosts lists (here RSA only, though the server prefers Ed25519)', async () => {
        const rsaOnly = knownHosts('known_hosts.rsa', [entry(hostRsa)])
        await expect(client({ IMAGESPEC_SSH_KNOWN_HOSTS: rsaOnly }).ping()).resolves.toBeDefined()
      })

      it('refuses an unknown host key, naming host, key and known_hosts file, before logging in', async () => {
        const before = logins()
        const other = knownHosts('known_hosts.other', [
          entry(hostEd25519, '127.0.0.1'), // port 22 entries do not name [127.0.0.1]:port
          entry(hostEd25519, 'example.org'),
        ])
        const fingerprint = run('ssh-keygen', [
          '-l',
          '-E',
          'sha256',
          '-f',
          join(dir, 'host_ed25519.pub'),
        ]).split(' ')[1]
        const missingHome = join(dir, 'empty-home')
        for (const [env, file] of [
          [{ IMAGESPEC_SSH_KNOWN_HOSTS: other }, other],
          [
            { HOME: missingHome },
            `${join(missingHome, '.ssh', 'known_hosts')} or /etc/ssh/ssh_known_hosts`,
          ],
        ] as const) {
          const outcome = await failure(() => client(env).ping())
          expectClear(outcome)
          expect(outcome.err).toMatchObject({
            code: 'E_ENGINE_UNAVAILABLE',
            message: `The SSH host key of ${hostName()} (ssh-ed25519 key ${fingerprint}) is not in ${file}`,
            hint: expect.stringContaining(`ssh -p ${sshd.port} root@127.0.0.1`),
          })
        }
        // the inspect path reports the same error (no generic "cannot inspect")
        await expect(
          client({ IMAGESPEC_SSH_KNOWN_HOSTS: other }).inspectImage(base),
        ).rejects.toMatchObject({
          message: expect.stringMatching(/^The SSH host key of .* is not in /),
        })
        expect(logins()).toBe(before) // the agent's key was never offered to the unverified server
      })

      it('refuses a changed host key (known_hosts holds another key of that type), naming file and line', async () => {
        const changed = knownHosts('known_hosts.changed', ['# a comment', '', entry(otherHostKey)])
        const outcome = await failure(() => client({ IMAGESPEC_SSH_KNOWN_HOSTS: changed }).ping())
        expectClear(outcome)
        expect(outcome.err).toMatchObject({
          code: 'E_ENGINE_UNAVAILABLE',
          message: expect.stringMatching(
            /^The SSH host key of \[127\.0\.0\.1\]:\d+ has changed: the server presented /,
          ),
          hint: expect.stringContaining('man in the middle'),
        })
        expect((outcome.err as Error).message).toContain(`, ${changed} line 3 holds another one`)
        // the same in $HOME/.ssh/known_hosts, hashed
        const changedHome = join(dir, 'changed-home')
        mkdirSync(join(changedHome, '.ssh'), { recursive: true })
        const file = join(changedHome, '.ssh', 'known_hosts')
        writeFileSync(file, `${entry(otherHostKey)}\n`)
        run('ssh-keygen', ['-q', '-H', '-f', file])
        await expect(client({ HOME: changedHome }).ping()).rejects.toMatchObject({
          message: expect.stringContaining(
            `has changed: the server presented the ssh-ed25519 key SHA256:`,
          ),
        })
      })

      it('refuses a key marked @revoked even when another line lists it', async () => {
        const revoked = knownHosts('known_hosts.revoked', [
          entry(hostEd25519),
          `@revoked * ${hostEd25519}`,
        ])
        await expect(client({ IMAGESPEC_SSH_KNOWN_HOSTS: revoked }).ping()).rejects.toMatchObject({
          code: 'E_ENGINE_UNAVAILABLE',
          message: expect.stringMatching(/is marked @revoked in .*known_hosts\.revoked line 2$/),
        })
      })
    })
  },
)
