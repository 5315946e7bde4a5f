import { describe, expect, it } from 'vitest'
import { normalizeSpec } from '@imagespec/spec'
import { validateSpecForDockerfile } from './safety.js'

const check = (input: Record<string, unknown>) => () =>
  validateSpecForDockerfile(normalizeSpec({ name: 's', ...input }))

describe('validateSpecForDockerfile', () => {
  it('accepts ordinary specs', () => {
    expect(
      check({
        packages: ["bar; python_version<'3.12'"],
        env: { TAB: 'a\tb', Q: 'it\'s "x"' },
        commands: ['a && b'],
      }),
    ).not.toThrow()
  })

  it('accepts the env names Docker accepts: non-ASCII letters, digits first, dots, dashes; and non-string values', () => {
    expect(
      check({
        env: {
          CLÉ: 'v',
          ÆØÅ_1: 'v',
          '1': 'one',
          'a.b': 'x',
          'my-var': 'y',
          FLAG: false,
          N: null,
          F: 1.5,
        },
      }),
    ).not.toThrow()
  })

  it.each([
    [{ commands: ['ok', 'echo\nFROM evil'] }, 'commands[1]: must not contain a line break'],
    [{ packages: ['a\rb'] }, 'packages[0]: must not contain a line break'],
    [{ apt_packages: ['curl\u2028x'] }, 'apt_packages[0]: must not contain a line break'],
    [{ env: { K: 'v\nRUN x' } }, 'env.K: must not contain a line break'],
    [
      { env: { 'K V': 'x' } },
      'env: "K V" is not a valid environment variable name (no whitespace, "=", quotes, "\\", "$" or control characters)',
    ],
    [
      { env: { 'K=V': 'x' } },
      'env: "K=V" is not a valid environment variable name (no whitespace, "=", quotes, "\\", "$" or control characters)',
    ],
    [
      { env: { 'K"': 'x' } },
      'env: "K\\"" is not a valid environment variable name (no whitespace, "=", quotes, "\\", "$" or control characters)',
    ],
    [
      { env: { 'K\u0001': 'x' } },
      'env: "K\\u0001" is not a valid environment variable name (no whitespace, "=", quotes, "\\", "$" or control characters)',
    ],
    [
      { env: { 'K\u00a0': 'x' } },
      'env: "K\u00a0" is not a valid environment variable name (no whitespace, "=", quotes, "\\", "$" or control characters)',
    ],
    [{ env: { '': 'x' } }, 'env: an environment variable name must not be empty'],
    [{ commands: ['cat <<EOF'] }, 'commands[0]: must not contain "<<" (a Dockerfile heredoc)'],
    [
      { commands: ['echo \\'] },
      'commands[0]: must not end with a backslash (a Dockerfile line continuation)',
    ],
    [
      { pip_extra_args: '--pre \\ ' },
      'pip_extra_args: must not end with a backslash (a Dockerfile line continuation)',
    ],
    [
      { pip_secret_mounts: [['a', '/x,uid=0']] },
      'pip_secret_mounts[0][1]: must not contain whitespace, commas, quotes or backslashes',
    ],
    // The mount is part of the pip install's RUN line (found by the context fuzz test).
    [
      { pip_secret_mounts: [['numpy', '<<EOFnumpy']] },
      'pip_secret_mounts[0][1]: must not contain "<<" (a Dockerfile heredoc)',
    ],
    [
      { base_image: 'debian AS x' },
      'base_image: must be an image reference without whitespace or backslashes',
    ],
    [
      { builder_config: { uv_image: 'uv\\' } },
      'builder_config.uv_image: must be an image reference without whitespace or backslashes',
    ],
    [{ python_exec: '/usr/bin/python\n' }, 'python_exec: must not contain a line break'],
    [{ copy: ['a\nb'] }, 'copy[0]: must not contain a line break'],
  ])('refuses %j', (input, message) => {
    expect(check(input)).toThrow(expect.objectContaining({ code: 'E_SPEC_INVALID', message }))
  })
})
