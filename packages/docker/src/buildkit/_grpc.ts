// A small gRPC client over one HTTP/2 connection that we set up ourselves (a unix socket, TLS, or an HTTP upgrade on
// the Docker engine's /grpc endpoint). grpc-js can serve on an injected socket but cannot run a client on one, so the
// client side speaks the gRPC wire format directly: length-prefixed messages in HTTP/2 DATA frames, the status in the
// trailers. https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2'
import type { Duplex } from 'node:stream'

/** A gRPC error status with its code (`grpc-status`) and message (`grpc-message`). */
export class GrpcError extends Error {
  constructor(
    readonly grpcCode: number,
    message: string,
  ) {
    super(message)
    this.name = 'GrpcError'
  }
}

/** gRPC status codes we name. */
export const GRPC = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  NOT_FOUND: 5,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
} as const

/** Splits a byte stream into gRPC messages (1 byte compressed flag, 4 bytes big-endian length, payload). */
export function createFrameReader(onMessage: (msg: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0)
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    while (pending.length >= 5) {
      const size = pending.readUInt32BE(1)
      if (pending.length < 5 + size) break
      if (pending[0] !== 0)
        throw new GrpcError(GRPC.UNIMPLEMENTED, 'compressed gRPC messages are not supported')
      onMessage(pending.subarray(5, 5 + size))
      pending = pending.subarray(5 + size)
    }
  }
}

/** One gRPC message on the wire. */
export function frame(payload: Uint8Array): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(payload.length, 1)
  return Buffer.concat([head, payload])
}

export type Metadata = Record<string, string | string[]>

/** A call in progress: write request messages, read response messages, wait for the status. */
export interface Call {
  write(msg: Uint8Array): void
  end(): void
  /** Resolves when the server ends the call with status OK; rejects with a `GrpcError` or a connection error. */
  readonly done: Promise<void>
  cancel(): void
}

export class GrpcClient {
  private readonly session: ClientHttp2Session

  /** Runs HTTP/2 over `socket` (already connected; an upgraded HTTP/1.1 connection or a TLS socket with ALPN h2). */
  constructor(socket: Duplex, authority = 'buildkitd') {
    this.session = connect(`http://${authority}`, { createConnection: () => socket })
    this.session.on('error', () => {}) // surfaced through the calls
  }

  /** Starts a call to `path` (`/package.Service/Method`); each response message goes to `onMessage`. */
  call(path: string, onMessage: (msg: Buffer) => void, metadata: Metadata = {}): Call {
    let stream: ClientHttp2Stream
    const done = new Promise<void>((resolve, reject) => {
      let headers: Record<string, unknown> = {}
      let failure: unknown
      stream = this.session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: path,
        [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
        [constants.HTTP2_HEADER_TE]: 'trailers',
        ...metadata,
      })
      const read = createFrameReader(onMessage)
      stream.on('response', (h) => (headers = h))
      stream.on('data', (chunk: Buffer) => {
        try {
          read(chunk)
        } catch (err) {
          failure = err
          stream.close(constants.NGHTTP2_CANCEL)
        }
      })
      let trailers: Record<string, unknown> | undefined
      stream.on('trailers', (t) => (trailers = t))
      stream.on('error', (err) => (failure ??= err))
      stream.on('close', () => {
        if (failure) return reject(failure)
        const status = trailers?.['grpc-status'] ?? headers['grpc-status'] // trailers-only responses use headers
        if (status === undefined) {
          const http = headers[constants.HTTP2_HEADER_STATUS]
          const why = stream.rstCode
            ? `the stream was reset (code ${stream.rstCode})`
            : `HTTP status ${String(http)}`
          return reject(new GrpcError(GRPC.UNAVAILABLE, `no gRPC status for ${path}: ${why}`))
        }
        if (Number(status) === GRPC.OK) return resolve()
        const message = decodeURIComponent(
          String(trailers?.['grpc-message'] ?? headers['grpc-message'] ?? ''),
        )
        reject(new GrpcError(Number(status), message || `gRPC status ${String(status)}`))
      })
    })
    done.catch(() => {}) // callers await it; avoid unhandled rejections from calls nobody waits for
    return {
      write: (msg) => void stream.write(frame(msg)),
      end: () => void stream.end(),
      done,
      cancel: () => {
        if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL)
      },
    }
  }

  /** A unary call: one request, one response. */
  async unary(path: string, request: Uint8Array, metadata?: Metadata): Promise<Buffer> {
    let response: Buffer | undefined
    const call = this.call(path, (m) => (response = Buffer.from(m)), metadata)
    call.write(request)
    call.end()
    await call.done
    if (!response) throw new GrpcError(GRPC.UNKNOWN, `no response message from ${path}`)
    return response
  }

  close(): void {
    this.session.destroy()
  }
}
