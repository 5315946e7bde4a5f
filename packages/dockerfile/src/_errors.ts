// The error of a context file whose source cannot be read, for every writer of the context.
import { ImagespecError, type ContextFile } from '@imagespec/spec'

const missing = (file: ContextFile, cause: unknown) =>
  new ImagespecError(
    'E_CONTEXT',
    file.missingMessage ?? `Source "${file.source}" of context file "${file.path}" does not exist`,
    {
      cause,
      field: file.path,
    },
  )

/** `E_CONTEXT` naming the context file whose source is missing or cannot be read. */
export const unreadable = (file: ContextFile, cause: unknown) =>
  cause instanceof ImagespecError
    ? cause
    : (cause as NodeJS.ErrnoException).code === 'ENOENT'
      ? missing(file, cause)
      : new ImagespecError(
          'E_CONTEXT',
          `Cannot read "${file.source}" for context file "${file.path}": ${(cause as Error).message}`,
          {
            cause,
            field: file.path,
          },
        )
