// In-process loopback fakes of a registry for the probe's unit tests: an HTTP server that records its requests and a
// raw TCP server for faults below HTTP. Each test file closes what it started with `afterEach(closeFakes)`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import { createProbe, type ProbeOptions, type Prober } from '../src/index.js'

export type Handler = (req: IncomingMessage, res: ServerResponse) => void
/** Cleanups of the servers and probers a test started (tests push their probers' close too). */
export const closers: (() => void)[] = []
export const closeFakes = (): void => closers.splice(0).forEach((close) => close())

/** An HTTP server on a free loopback port; `host` is `127.0.0.1:<port>`, `requests` every request it received. */
export async function serve(
  handler: Handler,
): Promise<{ host: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = []
  const server = createServer((req, res) => {
    requests.push(req)
    handler(req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  closers.push(() => server.close() && server.closeAllConnections())
  return { host: `127.0.0.1:${(server.address() as { port: number }).port}`, requests }
}

/** A TCP server on a free loopback port that hands each connection to `onSocket` (for faults below HTTP). */
export async function tcp(onSocket: (s: Socket) => void): Promise<string> {
  const sockets = new Set<Socket>()
  const server = createTcpServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
    onSocket(s)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  closers.push(() => {
    sockets.forEach((s) => s.destroy())
    server.close()
  })
  return `127.0.0.1:${(server.address() as { port: number }).port}`
}

export const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json'
export const DIGEST = `sha256:${'1'.repeat(64)}`
/** Answers 200 with a manifest's content type and digest (no body). */
export const ok = (res: ServerResponse, type = DOCKER_V2, digest = DIGEST) => {
  res.writeHead(200, { 'content-type': type, 'docker-content-digest': digest })
  res.end()
}
/** Probe options for the fakes: short retries, no Docker config. */
export const fast: ProbeOptions = { retries: 3, timeoutMs: 5000, dockerConfig: '/nonexistent' }

/** A prober with `options` (default: `fast`), closed with the fakes after the test. */
export function testProber(options: ProbeOptions = fast): Prober {
  const prober = createProbe(options)
  closers.push(() => prober.close())
  return prober
}
