/** Stable error codes: a public contract, never renamed. */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_SPEC_NOT_FOUND'
  | 'E_SPEC_INVALID'
  | 'E_CONTEXT'
  | 'E_TEMPLATE'
  | 'E_INSTALLER_NOT_FOUND'
  | 'E_INSTALLER_UNSUPPORTED'
  | 'E_REGISTRY_AUTH'
  | 'E_REFERENCE_INVALID'
  | 'E_CONFIG_INVALID'
  | 'E_ENGINE_UNAVAILABLE'
  | 'E_BUILD_FAILED'
  | 'E_BUILD_CANCELLED'
  | 'E_PUSH_FAILED'
  | 'E_TAG_CHANGED'
  | 'E_IMAGE_EXISTS_UNKNOWN'
  | 'E_BUILDER_NOT_FOUND'
  | 'E_BUILDER_INVALID'
  | 'E_INTERNAL'

export interface ImagespecErrorOptions {
  cause?: unknown
  /** A remedy, printed on its own line by the CLI. */
  hint?: string
  /** One line per problem, e.g. `packages: must be a list of strings or None`. */
  details?: readonly string[]
  /** The spec field or file the error is about, when there is one. */
  field?: string
}

/**
 * The one error class of imagespec. Libraries throw it; only the CLI prints it. `instanceof ImagespecError` also
 * holds for an error from another copy of this package (see `isImagespecError`).
 */
export class ImagespecError extends Error {
  override readonly name = 'ImagespecError'
  readonly code: ErrorCode
  readonly hint?: string
  readonly details: readonly string[]
  readonly field?: string

  constructor(code: ErrorCode, message: string, options: ImagespecErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.hint = options.hint
    this.details = options.details ?? []
    this.field = options.field
  }

  static [Symbol.hasInstance](v: unknown): boolean {
    // Only the class itself answers for every copy; a subclass keeps the prototype-chain check.
    return this === ImagespecError
      ? isImagespecError(v)
      : Function.prototype[Symbol.hasInstance].call(this, v)
  }
}

/** Whether `e` is an ImagespecError, from this copy of the package or any other (checked by name and code). */
export function isImagespecError(e: unknown): e is ImagespecError {
  return (
    e instanceof Error &&
    (e as { name?: string }).name === 'ImagespecError' &&
    typeof (e as ImagespecError).code === 'string'
  )
}
