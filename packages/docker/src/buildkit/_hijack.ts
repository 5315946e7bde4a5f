// The session's transport on BuildKit's own API: `Control.Session`, a bidirectional stream of BytesMessage that
// carries the bytes of a second HTTP/2 connection (on which BuildKit is the gRPC client and we serve the session).
// The session's identity travels as the call's metadata. buildctl does this through its `grpchijack` dialer.
// https://github.com/moby/buildkit/blob/v0.8.3/session/grpchijack/dial.go
import { Duplex } from 'node:stream'
import { decodeBytes, encodeBytes } from './_wire.js'
import type { Call, GrpcClient, Metadata } from './_grpc.js'

/** Opens `Control.Session` with `metadata` and returns the tunnelled connection as a byte stream. */
export function hijackSession(client: GrpcClient, metadata: Metadata): Duplex {
  // the call is opened right below, before anything can be written
  const open: { call?: Call } = {}
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      open.call?.write(encodeBytes(chunk))
      cb()
    },
    final(cb) {
      open.call?.end()
      cb()
    },
    destroy(err, cb) {
      open.call?.cancel()
      cb(err)
    },
  })
  const call = client.call(
    '/moby.buildkit.v1.Control/Session',
    (msg) => duplex.push(decodeBytes(msg)),
    metadata,
  )
  open.call = call
  call.done.then(
    () => duplex.push(null),
    (err: unknown) => duplex.destroy(err as Error),
  )
  return duplex
}
