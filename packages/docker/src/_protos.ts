// Wire types mirrored from BuildKit v0.8 (the version vendored by dockerd 20.10), reduced to the fields we use.
import protobuf from 'protobufjs'

// https://github.com/moby/buildkit/blob/v0.8.3/api/services/control/control.proto (StatusResponse and friends)
// https://github.com/moby/buildkit/blob/v0.8.3/session/secrets/secrets.proto
// https://github.com/moby/buildkit/blob/v0.8.3/session/auth/auth.proto
// BuildKit also calls the standard gRPC health service on the session and drops a session that does not answer.
const PROTO = `
syntax = "proto3";
package moby.buildkit.v1;
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message Vertex {
  string digest = 1; repeated string inputs = 2; string name = 3; bool cached = 4;
  Timestamp started = 5; Timestamp completed = 6; string error = 7;
}
message VertexStatus {
  string ID = 1; string vertex = 2; string name = 3; int64 current = 4; int64 total = 5;
  Timestamp timestamp = 6; Timestamp started = 7; Timestamp completed = 8;
}
message VertexLog { string vertex = 1; Timestamp timestamp = 2; int64 stream = 3; bytes msg = 4; }
message VertexWarning { string vertex = 1; int64 level = 2; bytes short = 3; repeated bytes detail = 4; string url = 5; }
message StatusResponse {
  repeated Vertex vertexes = 1; repeated VertexStatus statuses = 2; repeated VertexLog logs = 3;
  repeated VertexWarning warnings = 4;
}
`
const SECRETS_PROTO = `
syntax = "proto3";
package moby.buildkit.secrets.v1;
message GetSecretRequest { string ID = 1; map<string, string> annotations = 2; }
message GetSecretResponse { bytes data = 1; }
`
// https://github.com/grpc/grpc-proto/blob/master/grpc/health/v1/health.proto (status as int32: SERVING = 1)
const HEALTH_PROTO = `
syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse { int32 status = 1; }
`
const AUTH_PROTO = `
syntax = "proto3";
package moby.filesync.v1;
message CredentialsRequest { string Host = 1; }
message CredentialsResponse { string Username = 1; string Secret = 2; }
`

export interface PbTimestamp {
  seconds: number
  nanos: number
}
interface PbVertex {
  digest: string
  name: string
  cached: boolean
  started?: PbTimestamp
  completed?: PbTimestamp
  error: string
}
interface PbVertexStatus {
  ID: string
  vertex: string
  name: string
  current: number
  total: number
  completed?: PbTimestamp
}
interface PbVertexLog {
  vertex: string
  stream: number
  msg: Uint8Array
}
interface PbVertexWarning {
  vertex: string
  short: Uint8Array
  detail: Uint8Array[]
  url: string
}
export interface PbStatusResponse {
  vertexes: PbVertex[]
  statuses: PbVertexStatus[]
  logs: PbVertexLog[]
  warnings: PbVertexWarning[]
}

const statusType = protobuf.parse(PROTO).root.lookupType('moby.buildkit.v1.StatusResponse')

/** Decodes the base64 `aux` of a `moby.buildkit.trace` line. */
export function decodeStatus(base64: string): PbStatusResponse {
  return decodeStatusBytes(Buffer.from(base64, 'base64'))
}

/** Decodes a StatusResponse message (as `Control.Status` streams them). */
export function decodeStatusBytes(bytes: Uint8Array): PbStatusResponse {
  const msg = statusType.decode(bytes)
  return statusType.toObject(msg, {
    longs: Number,
    defaults: true,
    arrays: true,
  }) as PbStatusResponse
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? DeepPartial<U>[] : T[K] }

/** Encodes a StatusResponse (for tests and fixtures). */
export function encodeStatus(status: DeepPartial<PbStatusResponse>): string {
  return Buffer.from(statusType.encode(statusType.fromObject(status)).finish()).toString('base64')
}

/** A unary gRPC method definition (the shape `grpc.Server.addService` takes) built from protobufjs types. */
function unary<Req, Res>(
  root: protobuf.Root,
  pkg: string,
  service: string,
  method: string,
  req: string,
  res: string,
) {
  const reqType = root.lookupType(`${pkg}.${req}`)
  const resType = root.lookupType(`${pkg}.${res}`)
  return {
    path: `/${pkg}.${service}/${method}`,
    requestStream: false as const,
    responseStream: false as const,
    requestSerialize: (v: Req) =>
      Buffer.from(reqType.encode(reqType.fromObject(v as object)).finish()),
    requestDeserialize: (b: Buffer) =>
      reqType.toObject(reqType.decode(b), { defaults: true }) as Req,
    responseSerialize: (v: Res) =>
      Buffer.from(resType.encode(resType.fromObject(v as object)).finish()),
    responseDeserialize: (b: Buffer) =>
      resType.toObject(resType.decode(b), { defaults: true }) as Res,
  }
}

const secretsRoot = protobuf.parse(SECRETS_PROTO).root
const authRoot = protobuf.parse(AUTH_PROTO).root
const healthRoot = protobuf.parse(HEALTH_PROTO).root

export const secretsService = {
  GetSecret: unary<{ ID: string }, { data: Buffer }>(
    secretsRoot,
    'moby.buildkit.secrets.v1',
    'Secrets',
    'GetSecret',
    'GetSecretRequest',
    'GetSecretResponse',
  ),
}
export const authService = {
  Credentials: unary<{ Host: string }, { Username: string; Secret: string }>(
    authRoot,
    'moby.filesync.v1',
    'Auth',
    'Credentials',
    'CredentialsRequest',
    'CredentialsResponse',
  ),
}
export const healthService = {
  Check: unary<{ service: string }, { status: number }>(
    healthRoot,
    'grpc.health.v1',
    'Health',
    'Check',
    'HealthCheckRequest',
    'HealthCheckResponse',
  ),
}
/** `grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING` */
export const SERVING = 1
