import picocolors from 'picocolors'
import type { Output } from './_io.js'

type Colors = ReturnType<typeof picocolors.createColors>

/**
 * Colours follow the output stream, not the machine: on when it is a terminal (and NO_COLOR is unset, TERM is not
 * "dumb") or FORCE_COLOR asks for them. picocolors' own default also turns them on whenever CI is set, which would
 * put escape codes into CI logs and piped output.
 */
export function colorsEnabled(out: Output, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0'
  return env.NO_COLOR === undefined && Boolean(out.isTTY) && env.TERM !== 'dumb'
}

/** The colour functions in use; `setupColors` switches them on for a terminal. Off by default. */
export let pc: Colors = picocolors.createColors(false)

export function setupColors(out: Output, env: Readonly<Record<string, string | undefined>>): void {
  pc = picocolors.createColors(colorsEnabled(out, env))
}
