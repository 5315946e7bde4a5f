import { inspect } from 'node:util'
import { closestMatch } from 'leven'
import { isImagespecError } from '@imagespec/spec'
import { UsageError, type CommandDef } from './_args.js'
import { pc } from './_colors.js'
import { jsonLine, printable } from './_sanitize.js'
import { version } from './_version.js'

export interface ErrorSink {
  write(text: string): void
}

/** Codes of bad input: a usage error, a bad spec, an invalid image reference, bad configuration (flags, env, files). */
const INPUT_ERRORS = new Set(['E_USAGE', 'E_REFERENCE_INVALID', 'E_CONFIG_INVALID'])

/**
 * Exit status of an error: 2 for bad input (usage, spec, image reference, configuration), 130 for a cancelled build,
 * 1 for other known errors, 70 for internal ones (never for bad input).
 */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return 2
  if (!isImagespecError(err)) return 70
  if (INPUT_ERRORS.has(err.code) || err.code.startsWith('E_SPEC_')) return 2
  if (err.code === 'E_BUILD_CANCELLED') return 130
  return 1
}

export interface PrintErrorOptions {
  /** Adds causes and stacks. */
  debug?: boolean
  /** The help text printed after a command-line mistake (of the command it was in, else the program's). */
  help?: (command: CommandDef | undefined) => string
}

/**
 * The CLI's one error printer. A command-line mistake prints `error: <message>` and the help, as commander does.
 * An ImagespecError prints `✖ <message>`, its details as `  → …`, `hint: …` and a
 * dim `[E_CODE]`; never a stack trace (unless --debug). Anything else is an internal error: it prints the stack and
 * the versions. Returns the exit status.
 */
export function printError(err: unknown, out: ErrorSink, opts: PrintErrorOptions = {}): number {
  if (err instanceof UsageError && err.unknown) {
    // An unknown command or option: one line and the closest match, not the whole help.
    const { word, candidates } = err.unknown
    const guess = closestMatch(word, [...candidates], {
      maxDistance: Math.max(2, Math.floor(word.length / 3)),
    })
    const where = err.command ? `imagespec ${err.command.name} --help` : 'imagespec --help'
    out.write(`error: ${err.message}${guess ? ` (did you mean ${guess}?)` : ''}; see '${where}'\n`)
    return exitCodeOf(err)
  }
  if (err instanceof UsageError) {
    out.write(
      `${err.message ? `error: ${printable(err.message)}\n\n` : ''}${opts.help?.(err.command) ?? ''}`,
    )
    return exitCodeOf(err)
  }
  if (isImagespecError(err)) {
    // Messages echo input (spec values, paths, references): printed escaped and bounded.
    const lines = [
      `${pc.red('✖')} ${printable(err.message)}`,
      ...err.details.map((d) => `  → ${printable(d)}`),
    ]
    if (err.hint) lines.push(`${pc.bold('hint:')} ${printable(err.hint)}`)
    lines.push(pc.dim(`[${err.code}]`))
    if (opts.debug) lines.push(inspect(err, { depth: 6 }))
    out.write(lines.join('\n') + '\n')
    return exitCodeOf(err)
  }
  const stack = err instanceof Error ? (err.stack ?? String(err)) : inspect(err)
  out.write(
    `${pc.red('✖')} internal error, please report it: ${printable(err instanceof Error ? err.message : String(err))}\n` +
      `${stack}\n${pc.dim(`imagespec ${version}, node ${process.version}, ${process.platform}-${process.arch}`)}\n`,
  )
  return 70
}

/**
 * The `--json` form of an error: `{"error":{"code","message","hint","field"}}` on one line (`E_INTERNAL` for errors
 * that are not ImagespecErrors, whose stack still goes to stderr). Returns the same exit status as `printError`.
 */
export function printJsonError(
  err: unknown,
  out: ErrorSink,
  opts: { debug?: boolean; stderr?: ErrorSink } = {},
): number {
  if (err instanceof UsageError) {
    const where = err.command ? `imagespec ${err.command.name} --help` : 'imagespec --help'
    out.write(
      jsonLine({
        error: {
          code: 'E_USAGE',
          message: err.message || 'missing command',
          hint: `see '${where}'`,
          field: null,
          details: [],
        },
      }),
    )
    return exitCodeOf(err)
  }
  if (isImagespecError(err)) {
    const { code, message, hint, field, details } = err
    out.write(
      jsonLine({ error: { code, message, hint: hint ?? null, field: field ?? null, details } }),
    )
    if (opts.debug) opts.stderr?.write(inspect(err, { depth: 6 }) + '\n')
    return exitCodeOf(err)
  }
  const message = err instanceof Error ? err.message : String(err)
  out.write(
    jsonLine({
      error: { code: 'E_INTERNAL', message, hint: 'internal error, please report it', field: null },
    }),
  )
  opts.stderr?.write(
    `${err instanceof Error ? (err.stack ?? message) : inspect(err)}\n${pc.dim(`imagespec ${version}, node ${process.version}`)}\n`,
  )
  return 70
}
