// `render --out DIR`: the context is written into a fresh directory beside DIR and renamed into place, so nothing is
// ever written through a symlink that DIR holds, and a new context never mixes with stale files.
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  type Stats,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { ImagespecError } from '@imagespec/spec'

function outError(out: string, why: string, cause?: unknown): ImagespecError {
  return new ImagespecError('E_USAGE', `Cannot write the context to "${out}": ${why}`, {
    cause,
    field: '--out',
  })
}

function reason(cause: unknown): string {
  switch ((cause as NodeJS.ErrnoException).code) {
    case 'ENOTDIR':
      return 'a parent of it is a file'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EROFS':
      return 'the file system is read-only'
    case 'ENOSPC':
      return 'no space left on the device'
    case 'ENAMETOOLONG':
      return 'the name is too long'
    case 'ELOOP':
      return 'too many symbolic links in its path'
    default:
      return (cause as Error).message
  }
}

/**
 * Writes a new directory `out` through `write(tmp)`: `out` must not exist, or be an empty directory, or (`force`)
 * a directory whose content is replaced. `out` being a file or a symlink, or not empty without `force`, is refused
 * with one line (`E_USAGE`), as is a parent that is a file or cannot be written. On failure nothing is left behind.
 */
export async function replaceDirectory<T>(
  out: string,
  force: boolean,
  write: (tmp: string) => Promise<T>,
): Promise<T> {
  let existing: Stats | undefined
  try {
    existing = lstatSync(out)
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT')
      throw outError(out, reason(cause), cause)
  }
  if (existing?.isSymbolicLink()) throw outError(out, 'it is a symbolic link')
  if (existing && !existing.isDirectory()) throw outError(out, 'it is a file')
  if (existing && !force && readdirSync(out).length > 0)
    throw new ImagespecError('E_USAGE', `Cannot write the context to "${out}": it is not empty`, {
      field: '--out',
      hint: 'Pass --force to replace its content, or name a new directory',
    })

  const parent = dirname(out)
  let tmp: string
  try {
    mkdirSync(parent, { recursive: true })
    tmp = mkdtempSync(join(parent, `.${basename(out)}.imagespec-`))
    chmodSync(tmp, 0o755)
  } catch (cause) {
    throw outError(out, reason(cause), cause)
  }
  let result: T
  try {
    result = await write(tmp)
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true })
    throw err
  }
  try {
    if (existing) {
      // The old directory is moved aside (rm never follows the links it holds), then the new one takes its name.
      const old = `${tmp}-old`
      renameSync(out, old)
      renameSync(tmp, out)
      rmSync(old, { recursive: true, force: true })
    } else renameSync(tmp, out)
  } catch (cause) {
    rmSync(tmp, { recursive: true, force: true })
    throw outError(out, reason(cause), cause)
  }
  return result
}
