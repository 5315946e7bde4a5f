/** Replacement for secret values in anything we emit. */
export const SCRUBBED = '***'

/**
 * Returns a function that replaces every occurrence of a secret value in a string with `***`. Besides each whole
 * value it also scrubs the value without surrounding whitespace, and each line (of 4 or more characters) of a
 * multi-line value, since logs are emitted line by line.
 */
export function makeScrubber(values: Iterable<Buffer | string>): (text: string) => string {
  const needles = new Set<string>()
  for (const value of values) {
    const text = value.toString()
    for (const candidate of [text, text.trim()]) if (candidate) needles.add(candidate)
    for (const line of text.split(/\r?\n/)) if (line.trim().length >= 4) needles.add(line.trim())
  }
  if (needles.size === 0) return (text) => text
  const escaped = [...needles]
    .sort((a, b) => b.length - a.length)
    .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  const pattern = new RegExp(escaped.join('|'), 'g')
  return (text) => text.replace(pattern, SCRUBBED)
}
