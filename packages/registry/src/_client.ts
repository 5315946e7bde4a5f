// The connection state one `createProbe()` shares across its requests: transport (sockets, TLS, insecure
// registries), auth (challenges, tokens, credentials), retries and the debug sink. Registry reads and writes both
// build on it.
import { readFileSync } from 'node:fs'
import { ImagespecError } from '@imagespec/spec'
import { Auth } from './_auth.js'
import { Transport } from './_transport.js'
import type { ProbeOptions } from './types.js'

const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_RETRIES = 3
const DEFAULT_CONCURRENCY = 32

/** What every request of one client shares. */
export interface RegistryClient {
  transport: Transport
  auth: Auth
  /** Retries after a first attempt (connection errors, 429/5xx). */
  retries: number
  debug(message: string): void
}

/** `ProbeOptions` checked and resolved, with the client they describe. */
export interface ResolvedClient extends RegistryClient {
  timeoutMs: number
  concurrency: number
  tagListPageSize?: number
}

/** Checks the options (throwing `E_CONFIG_INVALID` for a bad one) and opens the client they describe. */
export function createClient(options: ProbeOptions = {}): ResolvedClient {
  const env = options.env ?? process.env
  const timeoutMs = checkPositive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs')
  const retries = options.retries ?? DEFAULT_RETRIES
  if (!Number.isInteger(retries) || retries < 0) throw badOption('retries', retries)
  const concurrency = checkPositive(options.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency')
  const pageSize = options.tagListPageSize
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize <= 0))
    throw badOption('tagListPageSize', pageSize)
  const logger = options.logger
  const debug = (message: string) => logger?.debug(message)
  const insecure = [
    ...(options.insecureRegistries ?? []),
    ...(env.IMAGESPEC_INSECURE_REGISTRIES ?? '').split(','),
  ]
    .map((s) => s.trim())
    .filter(Boolean)
  const transport = new Transport({
    insecureRegistries: insecure,
    insecureLoopback: options.insecureLoopback ?? true,
    ca: [...toList(options.ca), ...toList(options.caFile).map(readCaFile)],
    maxSockets: concurrency,
    debug,
  })
  const auth = new Auth(
    { credentials: options.credentials, dockerConfig: options.dockerConfig, env },
    debug,
  )
  return {
    transport,
    auth,
    retries,
    debug,
    timeoutMs,
    concurrency,
    ...(pageSize !== undefined && { tagListPageSize: pageSize }),
  }
}

export function checkPositive(v: number, field: string): number {
  if (!Number.isFinite(v) || v <= 0) throw badOption(field, v)
  return v
}

function badOption(field: string, value: unknown): ImagespecError {
  return new ImagespecError(
    'E_CONFIG_INVALID',
    `Invalid option "${field}": ${JSON.stringify(value)}`,
    { field },
  )
}

function toList(v: string | readonly string[] | undefined): string[] {
  return v === undefined ? [] : typeof v === 'string' ? [v] : [...v]
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (e) {
    throw new ImagespecError('E_CONFIG_INVALID', `Cannot read the CA file "${path}"`, {
      cause: e,
      field: 'caFile',
    })
  }
}
