import { describe, expect, it } from 'vitest'
import { helpText, parseCommandLine, UsageError, type ProgramDef } from './_args.js'

const build = {
  name: 'build',
  description: 'build it',
  argument: { name: 'spec', description: 'spec file', required: true },
  options: [
    { flag: '--push', description: 'push' },
    { flag: '--no-push', description: 'do not push' },
    {
      flag: '--progress <mode>',
      description: 'progress output',
      choices: ['auto', 'plain'],
      default: 'auto',
    },
    { flag: '--label <key=value>', description: 'label (repeatable)', multiple: true },
  ],
}
const exists = {
  name: 'exists',
  description: 'probe',
  argument: { name: 'spec', description: 'spec file', required: false },
  options: [
    { flag: '--ref <ref>', description: 'reference' },
    { flag: '--json', description: 'json' },
  ],
}
const program: ProgramDef = {
  name: 'tool',
  description: 'A tool',
  options: [
    {
      flag: '--flytekit-version <version>',
      description: 'flytekit version pinned in the image, a long text that wraps',
    },
    { flag: '--debug', description: 'debug' },
  ],
  commands: [build, exists],
}
const parse = (...argv: string[]) => parseCommandLine(program, argv)
const usage = (...argv: string[]) => {
  try {
    parse(...argv)
  } catch (e) {
    if (e instanceof UsageError) return { message: e.message, command: e.command?.name }
    throw e
  }
  throw new Error('no usage error')
}

describe('parseCommandLine', () => {
  it('takes global options anywhere, camelCases names, applies defaults, negations in order and repeats', () => {
    expect(
      parse(
        '--flytekit-version',
        '1.2',
        'build',
        'a.yaml',
        '--no-push',
        '--push',
        '--label=a=b',
        '--label',
        'c=d',
        '--debug',
      ),
    ).toEqual({
      kind: 'run',
      command: build,
      argument: 'a.yaml',
      globals: { flytekitVersion: '1.2', debug: true },
      options: { progress: 'auto', push: true, label: ['a=b', 'c=d'] },
    })
    expect(parse('build', '--no-push', '-', '--progress', 'plain')).toMatchObject({
      argument: '-',
      options: { push: false, progress: 'plain' },
    })
    expect(parse('exists', '--ref', 'a:b')).toMatchObject({
      argument: undefined,
      options: { ref: 'a:b' },
    })
    expect(parse('exists', '--', '--odd-name.yaml')).toMatchObject({ argument: '--odd-name.yaml' })
  })

  it('answers --help, -h and help [command] anywhere, and --version', () => {
    expect(parse('--help')).toEqual({ kind: 'help', command: undefined })
    expect(parse('build', 'x', '-h')).toEqual({ kind: 'help', command: build })
    expect(parse('help', 'exists')).toEqual({ kind: 'help', command: exists })
    expect(parse('help')).toEqual({ kind: 'help', command: undefined })
    expect(parse('-V')).toEqual({ kind: 'version' })
  })

  it.each([
    [[], '', undefined],
    [['frobnicate'], "unknown command 'frobnicate'", undefined],
    [['help', 'nope'], "unknown command 'nope'", undefined],
    [['build'], "missing required argument 'spec'", 'build'],
    [
      ['build', 'a', 'b'],
      "too many arguments for 'build'. Expected 1 argument but got 2.",
      'build',
    ],
    [['build', 'a', '--bogus'], "unknown option '--bogus'", 'build'],
    [['build', 'a', '--json'], "unknown option '--json'", 'build'],
    [['--json', 'exists', 'a'], "unknown option '--json'", 'exists'],
    [['exists', '--json=1'], "option '--json' does not take a value", 'exists'],
    [['exists', '--ref'], "option '--ref <ref>' argument missing", 'exists'],
    [['--flytekit-version'], "option '--flytekit-version <version>' argument missing", undefined],
    [
      ['build', 'a', '--progress', 'fancy'],
      "option '--progress <mode>' argument 'fancy' is invalid. Allowed choices are auto, plain.",
      'build',
    ],
  ] as const)(
    "reports the usage error of %j with commander's text and the command whose help follows",
    (argv, message, command) => {
      expect(usage(...argv)).toEqual({ message, command })
    },
  )
})

describe('helpText', () => {
  it('lays out the program help as commander does, wrapping descriptions to the width', () => {
    expect(helpText(program, undefined, 60)).toBe(
      [
        'Usage: tool [options] [command]',
        '',
        'A tool',
        '',
        'Options:',
        '  -V, --version                 output the version number',
        '  --flytekit-version <version>  flytekit version pinned in',
        '                                the image, a long text that',
        '                                wraps',
        '  --debug                       debug',
        '  -h, --help                    display help for command',
        '',
        'Commands:',
        '  build [options] <spec>        build it',
        '  exists [options] [spec]       probe',
        '  help [command]                display help for command',
        '',
      ].join('\n'),
    )
  })
  it("lists a command's argument and options with choices and default", () => {
    const text = helpText(program, build)
    expect(text).toMatch(
      /^Usage: tool build \[options\] <spec>\n\nbuild it\n\nArguments:\n {2}spec {17}spec file\n/,
    )
    expect(text).toContain(
      '  --progress <mode>    progress output (choices: "auto", "plain", default:\n{23}"auto")\n'.replace(
        '{23}',
        ' '.repeat(23),
      ),
    )
  })
})
