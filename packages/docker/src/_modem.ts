import type { Readable } from 'node:stream'
import type Dockerode from 'dockerode'

/** The subset of docker-modem's `dial` options we use (its typings are loose). */
export interface DialOptions {
  path: string
  method: 'GET' | 'POST' | 'DELETE'
  options?: Record<string, unknown>
  file?: Readable
  headers?: Record<string, string | string[]>
  isStream?: boolean
  hijack?: boolean
  abortSignal?: AbortSignal
  authconfig?: object
  statusCodes: Record<number, true | string>
}

/** docker-modem's error shape: `statusCode` and `reason` for HTTP errors, `code` (errno) for socket errors. */
export interface ModemError extends Error {
  statusCode?: number
  reason?: string
  code?: string
  json?: unknown
}

type Modem = { dial(opts: DialOptions, cb: (err: ModemError | null, res: unknown) => void): void }

/** Promise wrapper around `docker.modem.dial`. */
export function dial<T>(docker: Dockerode, opts: DialOptions): Promise<T> {
  const modem = docker.modem as unknown as Modem
  return new Promise((resolve, reject) =>
    modem.dial(opts, (err, res) => (err ? reject(err) : resolve(res as T))),
  )
}
