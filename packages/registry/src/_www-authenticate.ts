/** One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1). Scheme is lower-cased; param names too. */
export interface Challenge {
  scheme: string
  params: Record<string, string>
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/
const TOKEN68 = /^([A-Za-z0-9\-._~+/]+=*)[ \t]*(?:,|$)/

/**
 * Parses one or more `WWW-Authenticate` header values into challenges, e.g.
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull", Basic realm="x"`.
 * Quoted strings may hold commas and `\"` escapes. Unparseable input ends the list (what was parsed is kept).
 */
export function parseWwwAuthenticate(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return []
  if (typeof header !== 'string') return header.flatMap((h) => parseWwwAuthenticate(h))
  const out: Challenge[] = []
  let s = header
  const skip = (re: RegExp) => {
    const m = re.exec(s)
    if (m) s = s.slice(m[0].length)
    return m?.[0]
  }
  for (;;) {
    skip(/^[\s,]*/)
    const scheme = skip(TOKEN)
    if (scheme === undefined) return out
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} }
    out.push(challenge)
    skip(/^[ \t]*/)
    // token68 form (e.g. `Negotiate abc==`) instead of auth-params
    const t68 = TOKEN68.exec(s)
    if (t68) {
      challenge.params.token68 = t68[1]!
      s = s.slice(t68[0].length)
      continue
    }
    for (;;) {
      const save = s
      skip(/^[\s,]*/)
      const name = skip(TOKEN)
      if (name === undefined || skip(/^[ \t]*=[ \t]*/) === undefined) {
        s = save // the next challenge starts here (or the input ends)
        break
      }
      const value = s.startsWith('"') ? quoted() : skip(TOKEN)
      if (value === undefined) return out
      challenge.params[name.toLowerCase()] = value
    }
  }

  function quoted(): string | undefined {
    let value = ''
    for (let i = 1; i < s.length; i++) {
      const c = s[i]!
      if (c === '\\' && i + 1 < s.length) value += s[++i]
      else if (c === '"') {
        s = s.slice(i + 1)
        return value
      } else value += c
    }
    return undefined
  }
}
