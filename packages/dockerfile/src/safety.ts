import { ImagespecError, dictEntries, type ImageSpec } from '@imagespec/spec'

const LINE_BREAK = /[\n\r\v\f\u0085\u2028\u2029]/
const HEREDOC = /<</
const TRAILING_BACKSLASH = /\\\s*$/
// What Docker's ENV takes as a name, less what would break the instruction or be read as something else: whitespace,
// `=`, quotes, the escape character `\`, `$` (substitution) and control characters. `CLÉ`, `1` and `a.b` are fine.
const BAD_ENV_KEY = /[\s="'\\$\p{Cc}\p{Cf}\u2028\u2029]/u

type Rule = [RegExp, string]
const singleLine: Rule = [LINE_BREAK, 'must not contain a line break']
const noHeredoc: Rule = [HEREDOC, 'must not contain "<<" (a Dockerfile heredoc)']
const noContinuation: Rule = [
  TRAILING_BACKSLASH,
  'must not end with a backslash (a Dockerfile line continuation)',
]
const imageRef: Rule = [/[\s\\]/, 'must be an image reference without whitespace or backslashes']
const mountValue: Rule = [/[\s,"'\\]/, 'must not contain whitespace, commas, quotes or backslashes']

/**
 * Refuses spec values that would break out of their Dockerfile instruction (a line break, a heredoc marker, a
 * trailing continuation backslash, a bad ENV key). Values that only need quoting (spaces, quotes, shell characters)
 * are quoted by the renderer instead. Throws `E_SPEC_INVALID` naming the field, e.g. `commands[1]: ...`.
 */
export function validateSpecForDockerfile(spec: ImageSpec): void {
  const problems: string[] = []
  const check = (field: string, value: string | null | undefined, ...rules: Rule[]) => {
    if (typeof value !== 'string') return
    for (const [re, msg] of rules) if (re.test(value)) problems.push(`${field}: ${msg}`)
  }
  const each = (field: keyof ImageSpec, list: readonly string[] | null, ...rules: Rule[]) =>
    list?.forEach((v, i) => check(`${field}[${i}]`, v, ...rules))

  check(
    'python_version',
    typeof spec.python_version === 'string' ? spec.python_version : null,
    singleLine,
    noHeredoc,
  )
  if (typeof spec.base_image === 'string')
    check('base_image', spec.base_image, singleLine, imageRef)
  for (const key of ['uv_image', 'micromamba_image']) {
    const v = spec.builder_config?.[key]
    if (typeof v === 'string') check(`builder_config.${key}`, v, singleLine, imageRef)
  }
  for (const [k, v] of dictEntries(spec.env ?? {})) {
    if (k === '') problems.push('env: an environment variable name must not be empty')
    else if (BAD_ENV_KEY.test(k))
      problems.push(
        `env: ${JSON.stringify(k)} is not a valid environment variable name (no whitespace, "=", quotes, "\\", "$" or control characters)`,
      )
    check(`env.${k}`, typeof v === 'string' ? v : null, singleLine)
  }
  each('packages', spec.packages, singleLine)
  each('apt_packages', spec.apt_packages, singleLine, noHeredoc)
  each('conda_packages', spec.conda_packages, singleLine, noHeredoc)
  each('conda_channels', spec.conda_channels, singleLine, noHeredoc)
  check('pip_index', spec.pip_index, singleLine, noHeredoc)
  each('pip_extra_index_url', spec.pip_extra_index_url, singleLine, noHeredoc)
  check('pip_extra_args', spec.pip_extra_args, singleLine, noHeredoc, noContinuation)
  spec.pip_secret_mounts?.forEach(([src, dst], i) => {
    check(`pip_secret_mounts[${i}][0]`, src, singleLine, mountValue, noHeredoc)
    check(`pip_secret_mounts[${i}][1]`, dst, singleLine, mountValue, noHeredoc)
  })
  check('python_exec', spec.python_exec, singleLine, noHeredoc)
  each('commands', spec.commands, singleLine, noHeredoc, noContinuation)
  each('copy', spec.copy, singleLine, noHeredoc)
  const installer = spec.builder_options?.installer
  if (typeof installer === 'string') check('builder_options.installer', installer, singleLine)

  if (problems.length > 0)
    throw new ImagespecError('E_SPEC_INVALID', problems[0], {
      details: problems,
      field: problems[0].split(':')[0],
    })
}
