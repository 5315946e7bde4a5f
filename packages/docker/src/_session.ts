import { randomUUID } from 'node:crypto'
import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import * as grpc from '@grpc/grpc-js'
import type Dockerode from 'dockerode'
import { authService, healthService, secretsService, SERVING } from './_protos.js'
import { dial } from './_modem.js'
import { diffCopyHandler, fileSyncService, type ContextTree } from './session/_filesync.js'

/** Username/secret pair BuildKit's Auth service answers with (`secret` is a password or an identity token). */
export interface SessionCredentials {
  username: string
  secret: string
}

export interface SessionServices {
  /** Secret values by id, served to `RUN --mount=type=secret,id=…`. */
  secrets: ReadonlyMap<string, Buffer>
  /** Registry credentials for a host (`FROM` pulls); undefined means anonymous. */
  credentials(host: string): Promise<SessionCredentials | undefined>
  /** Directories served over filesync (`context`, `dockerfile`), for builds that send no context tar. */
  dirs?: ReadonlyMap<string, ContextTree>
}

export interface Session {
  id: string
  close(): void
}

const METHODS = [
  secretsService.GetSecret.path,
  authService.Credentials.path,
  healthService.Check.path,
]

/** The gRPC methods a session serves: BuildKit only calls those the session announces. */
export function sessionMethods(services: SessionServices): string[] {
  return services.dirs ? [...METHODS, fileSyncService.DiffCopy.path] : METHODS
}

/**
 * Opens a BuildKit session on the engine (`POST /session`, upgraded to h2c) and serves the secrets, auth and health
 * services on it with an in-process gRPC server. Pass `id` as the `session` parameter of the build.
 */
export async function openSession(docker: Dockerode, services: SessionServices): Promise<Session> {
  const id = randomUUID()
  const socket = await dial<Duplex>(docker, {
    method: 'POST',
    path: '/session',
    hijack: true,
    headers: {
      Upgrade: 'h2c',
      'X-Docker-Expose-Session-Uuid': id,
      'X-Docker-Expose-Session-Name': 'imagespec',
      'X-Docker-Expose-Session-Grpc-Method': sessionMethods(services),
    },
    statusCodes: { 101: true, 200: true, 500: 'server error' },
  })
  // node:http2 answers 403 to a TLS socket without h2 by ALPN; over a TLS DOCKER_HOST the HTTP upgrade agreed on h2
  if ((socket as TLSSocket).encrypted) (socket as TLSSocket).alpnProtocol = 'h2'
  return { id, close: serveSession(socket, services) }
}

/**
 * Serves the session's services (secrets, auth, health, and filesync when `dirs` is given) to BuildKit over
 * `socket`, an HTTP/2 connection on which BuildKit is the client. Returns a function that stops serving.
 */
export function serveSession(socket: Duplex, services: SessionServices): () => void {
  const server = new grpc.Server()
  server.addService(secretsService, {
    GetSecret(
      call: grpc.ServerUnaryCall<{ ID: string }, unknown>,
      cb: grpc.sendUnaryData<{ data: Buffer }>,
    ) {
      const value = services.secrets.get(call.request.ID)
      if (value === undefined)
        cb({ code: grpc.status.NOT_FOUND, details: `secret ${call.request.ID} not found` })
      else cb(null, { data: value })
    },
  })
  server.addService(authService, {
    Credentials(
      call: grpc.ServerUnaryCall<{ Host: string }, unknown>,
      cb: grpc.sendUnaryData<{ Username: string; Secret: string }>,
    ) {
      services.credentials(call.request.Host).then(
        (c) => cb(null, { Username: c?.username ?? '', Secret: c?.secret ?? '' }),
        (err: unknown) =>
          cb({
            code: grpc.status.UNAVAILABLE,
            details: err instanceof Error ? err.message : String(err),
          }),
      )
    },
  })
  // BuildKit health-checks the session and closes it when the checks fail (after a few seconds)
  server.addService(healthService, {
    Check(
      _call: grpc.ServerUnaryCall<unknown, unknown>,
      cb: grpc.sendUnaryData<{ status: number }>,
    ) {
      cb(null, { status: SERVING })
    },
  })
  if (services.dirs)
    server.addService(fileSyncService, { DiffCopy: diffCopyHandler(services.dirs) })
  server.createConnectionInjector(grpc.ServerCredentials.createInsecure()).injectConnection(socket)
  socket.on('error', () => {}) // the engine drops the session when the build ends; nothing to report
  return () => {
    server.forceShutdown()
    socket.destroy()
  }
}
