import type { Output } from './io.js'

type Style = (text: string) => string
const STYLES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  cyan: [36, 39],
} as const
export type Colors = Record<keyof typeof STYLES, Style>

/** An SGR style; a closing code inside the text re-opens it, so nested styles (dim inside bold) survive. */
function style(open: number, close: number): Style {
  const [o, c] = [`\x1b[${open}m`, `\x1b[${close}m`]
  return (text) => o + text.replaceAll(c, c + o) + c
}

/** The colour functions, or identity functions when `enabled` is false. */
export function createColors(enabled: boolean): Colors {
  const entries = Object.entries(STYLES).map(([name, [open, close]]) => [
    name,
    enabled ? style(open, close) : String,
  ])
  return Object.fromEntries(entries) as Colors
}

/**
 * Colours follow the output stream, not the machine: on when it is a terminal (and NO_COLOR is unset, TERM is not
 * "dumb") or FORCE_COLOR asks for them; never merely because CI is set (that would put escape codes into CI logs).
 */
export function colorsEnabled(
  out: Output,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0'
  return env.NO_COLOR === undefined && Boolean(out.isTTY) && env.TERM !== 'dumb'
}

/** The colour functions in use; `setupColors` switches them on for a terminal. Off by default. */
export let pc: Colors = createColors(false)

export function setupColors(out: Output, env: Readonly<Record<string, string | undefined>>): void {
  pc = createColors(colorsEnabled(out, env))
}
