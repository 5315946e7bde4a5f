// DOCKER_HOST=ssh://… against the real engine: engine calls (ping, inspect, a BuildKit build with a secret) through a
// throwaway sshd and ssh-agent (./_ssh.ts), and the failures a user meets (login refused, no agent, no docker CLI).
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freePort } from '@imagespec/test-utils'
import { createDockerClient } from '../src/index.js'
import {
  buildWithSecret,
  expectNoTrace,
  failure,
  imageName,
  LABELS,
  RUN_ID,
  tarOf,
} from './_helpers.js'
import {
  agent,
  base,
  client,
  dir,
  emptyAgent,
  entry,
  expectClear,
  home,
  hostEd25519,
  knownHosts,
  local,
  logins,
  skipWithoutSsh,
  sshd,
  strangerAgent,
  useSshFixture,
} from './_ssh.js'

describe.skipIf(await skipWithoutSsh())('DOCKER_HOST=ssh:// (real sshd, real engine)', () => {
  useSshFixture()

  describe('engine calls', () => {
    it('pings the engine and inspects an image through the remote docker system dial-stdio', async () => {
      const before = logins()
      const driver = client()
      expect(driver.host).toEqual({
        protocol: 'ssh',
        host: '127.0.0.1',
        port: sshd.port,
        username: 'root',
        address: `ssh://root@127.0.0.1:${sshd.port}`,
      })
      const [remote, direct] = [await driver.ping(), await local.ping()]
      expect(remote).toEqual(direct)
      const info = await driver.inspectImage(base)
      expect(info?.id).toBe((await local.inspectImage(base))?.id)
      expect(
        await driver.inspectImage(`imagespec-test/absent:${RUN_ID.slice(0, 8)}`),
      ).toBeUndefined()
      expect(logins() - before).toBeGreaterThanOrEqual(3) // each request went through sshd (one connection each)
    })

    it('logs in as the local user when the address names none, as ssh does', async () => {
      const driver = createDockerClient({
        env: {
          DOCKER_HOST: `ssh://127.0.0.1:${sshd.port}`,
          SSH_AUTH_SOCK: agent.socket,
          HOME: home,
        },
      })
      expect((driver.host as { username?: string }).username).toBeUndefined()
      await expect(driver.ping()).resolves.toMatchObject({ version: expect.any(String) })
    })

    it('builds from the base image with a secret mount (BuildKit session upgraded through dial-stdio)', async () => {
      const tag = imageName('ssh-secret')
      const secret = `imagespec-ssh-secret-${RUN_ID}`
      const sum = createHash('sha256').update(secret).digest('hex')
      const { result, events } = await buildWithSecret(client(), tag, secret, {
        Dockerfile:
          `FROM ${base}\n` +
          // the step fails unless the session served exactly this secret; RUN_ID keeps it out of other runs' cache
          `RUN --mount=type=secret,id=secret_0,target=/run/secrets/x,required=true echo ${RUN_ID} && ` +
          `echo "${sum}  /run/secrets/x" | sha256sum -c - && cat /run/secrets/x && echo used > /used\n`,
      })
      expect(result.imageId).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect((await local.inspectImage(tag))?.id).toBe(result.imageId) // built by the same engine
      expect(events).toContainEqual(expect.objectContaining({ type: 'log', line: '***' }))
      await expectNoTrace(secret, tag, events)
    })
  })

  describe('failures', () => {
    const refused = (user: string) => ({
      code: 'E_ENGINE_UNAVAILABLE',
      message: `The SSH server at 127.0.0.1:${sshd.port} refused the login as "${user}"`,
      hint: expect.stringContaining('ssh-add'),
    })

    it('refuses a user the server does not let in, from ping, inspect and build alike', async () => {
      const driver = client({}, 'imagespec-no-such-user@')
      for (const call of [
        () => driver.ping(),
        () => driver.inspectImage(base),
        () => driver.build({ context: tarOf({ Dockerfile: 'FROM scratch\n' }), labels: LABELS }),
      ]) {
        const outcome = await failure(call)
        expectClear(outcome)
        expect(outcome.err).toMatchObject(refused('imagespec-no-such-user'))
      }
    })

    it('refuses a login when the agent holds no authorized key, or there is no agent', async () => {
      const agents = [strangerAgent.socket, emptyAgent.socket, undefined]
      for (const env of agents.map((socket) => ({ SSH_AUTH_SOCK: socket }))) {
        const outcome = await failure(() => client(env).ping())
        expectClear(outcome)
        expect(outcome.err, JSON.stringify(env)).toMatchObject(refused('root'))
      }
    })

    it('reports an agent socket that does not answer', async () => {
      const outcome = await failure(() =>
        client({ SSH_AUTH_SOCK: join(dir, 'no-agent.sock') }).ping(),
      )
      expectClear(outcome)
      expect(outcome.err).toMatchObject({
        code: 'E_ENGINE_UNAVAILABLE',
        message: expect.stringContaining(
          `Cannot use the ssh-agent to sign in to 127.0.0.1:${sshd.port}: `,
        ),
        hint: expect.stringContaining('SSH_AUTH_SOCK'),
      })
    })

    it('reports a host whose docker system dial-stdio does not answer (no docker CLI there)', async () => {
      const address = `ssh://root@127.0.0.1:${sshd.noDockerPort}`
      const known = knownHosts('known_hosts.no-docker', [
        entry(hostEd25519, `[127.0.0.1]:${sshd.noDockerPort}`),
      ])
      const driver = createDockerClient({
        env: {
          DOCKER_HOST: address,
          SSH_AUTH_SOCK: agent.socket,
          IMAGESPEC_SSH_KNOWN_HOSTS: known,
        },
      })
      for (const call of [() => driver.ping(), () => driver.inspectImage(base)]) {
        const outcome = await failure(call)
        expectClear(outcome)
        expect(outcome.err).toMatchObject({
          code: 'E_ENGINE_UNAVAILABLE',
          message: `Cannot reach the Docker engine at "${address}": docker system dial-stdio on the host ended without an answer`,
          hint: expect.stringContaining(
            'The SSH login as "root" worked: check that the docker CLI is installed',
          ),
        })
      }
    })

    it('reports a port where no sshd listens', async () => {
      const port = await freePort()
      const driver = createDockerClient({
        env: {
          DOCKER_HOST: `ssh://root@127.0.0.1:${port}`,
          SSH_AUTH_SOCK: agent.socket,
          HOME: home,
        },
      })
      for (const call of [() => driver.ping(), () => driver.inspectImage(base)]) {
        const outcome = await failure(call)
        expectClear(outcome)
        expect(outcome.err).toMatchObject({
          code: 'E_ENGINE_UNAVAILABLE',
          message: `Cannot connect to the SSH server at 127.0.0.1:${port} (ECONNREFUSED)`,
          hint: expect.stringContaining('DOCKER_HOST'),
        })
      }
    })
  })
})
