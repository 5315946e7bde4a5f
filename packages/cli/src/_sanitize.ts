// Output hygiene for everything the CLI echoes back from its input (spec values, file names, references): control
// characters are escaped, so a value cannot move the cursor, clear the screen or forge a line; long quoted values
// and very long lines are cut, so one huge value cannot flood a terminal or a CI log.

/** Longest quoted value echoed in full. */
const MAX_ECHO = 200
/** Longest line printed in full. */
const MAX_LINE = 2000

// C0 (but tab), DEL, C1, line/paragraph separators and the bidirectional overrides (which can reorder what is shown).
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const QUOTED = new RegExp(`"([^"\\n]{${MAX_ECHO + 1},})"|'([^'\\n]{${MAX_ECHO + 1},})'`, 'g')

function escape(ch: string): string {
  const code = ch.charCodeAt(0)
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`
}

const clip = (value: string) => `${value.slice(0, MAX_ECHO)}… (${value.length} characters)`

/** One line of output made safe: control characters escaped, long quoted values and the line itself cut. */
export function printable(line: string): string {
  let out = line.replace(CONTROL, escape)
  out = out.replace(QUOTED, (_m, dq: string | undefined, sq: string | undefined) =>
    dq !== undefined ? `"${clip(dq)}"` : `'${clip(sq as string)}'`,
  )
  return out.length > MAX_LINE ? `${out.slice(0, MAX_LINE)}… (${out.length} characters)` : out
}

/**
 * One line of JSON output: JSON.stringify escapes control characters but leaves U+2028 and U+2029, which terminals
 * and some log viewers show as line breaks; they are escaped too (the text stays valid JSON with the same value).
 */
export function jsonLine(value: unknown): string {
  return (
    JSON.stringify(value).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`) +
    '\n'
  )
}
