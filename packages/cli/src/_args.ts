// A small command-line parser over node:util's parseArgs (tokens only: the checks and messages are ours) and the
// help text, laid out as commander does. Loading it costs nothing beyond Node itself.
import { parseArgs } from 'node:util'

export interface OptionDef {
  /** `--name`, `--name <value>`, or `-x, --name`; a `--no-x` flag sets `x` to false. */
  flag: string
  description: string
  /** Repeatable: the values are collected into an array. */
  multiple?: boolean
  choices?: readonly string[]
  default?: string
}

export interface CommandDef {
  name: string
  description: string
  /** `variadic`: every positional argument, as an array. */
  argument?: { name: string; description: string; required: boolean; variadic?: boolean }
  options: readonly OptionDef[]
}

export interface ProgramDef extends Omit<CommandDef, 'argument'> {
  commands: readonly CommandDef[]
}

type OptionValues = Record<string, string | boolean | string[] | undefined>

export type Parsed =
  | { kind: 'help'; command?: CommandDef }
  | { kind: 'version' }
  | {
      kind: 'run'
      command: CommandDef
      argument?: string | string[]
      globals: OptionValues
      options: OptionValues
    }

/**
 * A command-line mistake found by the parser: code `E_USAGE` like any usage error, printed by `printError` as
 * `error: <message>` with the help of `command` (or the program's), exit status 2. (The parser does not load
 * @imagespec/spec, so this is not an `ImagespecError`; errors with code `E_USAGE` from the commands take the same
 * exit status.)
 */
export class UsageError extends Error {
  readonly code = 'E_USAGE' as const

  constructor(
    message: string,
    readonly command?: CommandDef,
    /** An unknown command or option, with what it could have meant (for a did-you-mean line instead of the help). */
    readonly unknown?: { word: string; candidates: readonly string[] },
  ) {
    super(message)
  }
}

const VERSION: OptionDef = { flag: '-V, --version', description: 'output the version number' }
const HELP: OptionDef = { flag: '-h, --help', description: 'display help for command' }

interface Flag {
  def: OptionDef
  key: string
  negate: boolean
  /** The value's name in `--name <value>`; none for a boolean flag. */
  placeholder?: string
}

function flagOf(def: OptionDef): Flag & { long: string; short?: string } {
  const m = /^(?:-(\w), )?--([\w-]+)(?: <([\w|=.-]+)>)?$/.exec(def.flag)
  if (!m) throw new Error(`bad option flag ${def.flag}`)
  const [, short, long, placeholder] = m
  const negate = long.startsWith('no-')
  const key = (negate ? long.slice(3) : long).replace(/-(\w)/g, (_, c: string) => c.toUpperCase())
  return { def, key, negate, placeholder, long, short }
}

/** Parses `argv` (without node and the script) against `program`. Throws UsageError. */
export function parseCommandLine(program: ProgramDef, argv: readonly string[]): Parsed {
  // Every option of every command is given to parseArgs, so that it takes their values wherever they stand; which
  // of them the chosen command accepts is checked afterwards.
  type Scoped = Flag & { scope: CommandDef | undefined }
  const flags = new Map<string, Scoped[]>()
  const config: NonNullable<Parameters<typeof parseArgs>[0]>['options'] = {}
  const add = (def: OptionDef, scope: CommandDef | undefined) => {
    const f = flagOf(def)
    flags.set(f.long, [...(flags.get(f.long) ?? []), { ...f, scope }])
    config[f.long] = {
      type: f.placeholder ? 'string' : 'boolean',
      ...(f.short && { short: f.short }),
    }
  }
  for (const def of [VERSION, HELP, ...program.options]) add(def, undefined)
  for (const command of program.commands) for (const def of command.options) add(def, command)

  const commandNames = () => [...program.commands.map((c) => c.name), 'help']
  const optionNames = (c: CommandDef | undefined) =>
    [VERSION, HELP, ...program.options, ...(c?.options ?? [])].map((d) => `--${flagOf(d).long}`)
  const unknownCommand = (word: string) =>
    new UsageError(`unknown command '${word}'`, undefined, { word, candidates: commandNames() })
  const unknownOption = (raw: string, c: CommandDef | undefined) =>
    new UsageError(`unknown option '${raw}'`, c, { word: raw, candidates: optionNames(c) })

  const { tokens } = parseArgs({
    args: [...argv],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  let command: CommandDef | undefined
  let help = false
  let version = false
  const positionals: string[] = []
  const globals: OptionValues = {}
  const options: OptionValues = {}
  const pending: { raw: string; candidates: Scoped[]; value?: string; beforeCommand: boolean }[] =
    []
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue
    if (token.kind === 'positional') {
      if (command === undefined && positionals.length === 0) {
        command = program.commands.find((c) => c.name === token.value)
        if (!command && token.value !== 'help') throw unknownCommand(token.value)
        if (!command) help = true
        else continue
      }
      positionals.push(token.value)
      continue
    }
    const candidates = flags.get(token.name)
    if (!candidates) throw unknownOption(token.rawName, command)
    if (candidates[0].def === HELP) help = true
    else if (candidates[0].def === VERSION) version = true
    else
      pending.push({
        raw: token.rawName,
        candidates,
        value: token.value,
        beforeCommand: command === undefined,
      })
  }
  if (help) {
    // `help [command]` or `--help` anywhere.
    const name = command ? undefined : (positionals[1] ?? positionals[0])
    if (name === undefined || name === 'help') return { kind: 'help', command }
    const target = program.commands.find((c) => c.name === name)
    if (!target) throw unknownCommand(name)
    return { kind: 'help', command: target }
  }
  if (version) return { kind: 'version' }

  for (const def of command?.options ?? [])
    if (def.default !== undefined) options[flagOf(def).key] = def.default
  for (const { raw, candidates, value, beforeCommand } of pending) {
    // A command's own options follow its name; the global ones go anywhere.
    const flag = candidates.find(
      (f) => f.scope === undefined || (f.scope === command && !beforeCommand),
    )
    if (!flag) throw unknownOption(raw, command)
    const into = flag.scope ? options : globals
    const term = flag.placeholder ? `${raw} <${flag.placeholder}>` : raw
    if (!flag.placeholder) {
      if (value !== undefined)
        throw new UsageError(`option '${raw}' does not take a value`, command)
      into[flag.key] = !flag.negate
      continue
    }
    if (value === undefined) throw new UsageError(`option '${term}' argument missing`, command)
    if (flag.def.choices && !flag.def.choices.includes(value))
      throw new UsageError(
        `option '${term}' argument '${value}' is invalid. Allowed choices are ${flag.def.choices.join(', ')}.`,
        command,
      )
    into[flag.key] = flag.def.multiple
      ? [...((into[flag.key] as string[] | undefined) ?? []), value]
      : value
  }
  if (!command) throw new UsageError('')
  const arg = command.argument
  if (positionals.length > (arg ? (arg.variadic ? Infinity : 1) : 0))
    throw new UsageError(
      `too many arguments for '${command.name}'. Expected ${arg ? 1 : 0} argument${arg ? '' : 's'} but got ${positionals.length}.`,
      command,
    )
  if (arg?.required && positionals.length === 0)
    throw new UsageError(`missing required argument '${arg.name}'`, command)
  return {
    kind: 'run',
    command,
    argument: arg?.variadic ? positionals : positionals[0],
    globals,
    options,
  }
}

/** Greedy word wrap of `text` to `width` columns; continuation lines are indented by `indent`. */
function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  lines.push(line)
  return lines.join(`\n${' '.repeat(indent)}`)
}

const usageOf = (c: CommandDef) =>
  `${c.name} [options]${c.argument ? (c.argument.required ? ` <${c.argument.name}${c.argument.variadic ? '...' : ''}>` : ` [${c.argument.name}${c.argument.variadic ? '...' : ''}]`) : ''}`

function optionText(def: OptionDef): string {
  const extra = [
    ...(def.choices ? [`choices: ${def.choices.map((c) => `"${c}"`).join(', ')}`] : []),
    ...(def.default !== undefined ? [`default: "${def.default}"`] : []),
  ]
  return extra.length ? `${def.description} (${extra.join(', ')})` : def.description
}

/** Help text of the program, or of one of its commands, for a `columns`-wide terminal. */
export function helpText(program: ProgramDef, command?: CommandDef, columns = 80): string {
  const sections: [string, [string, string][]][] = command
    ? [
        [
          'Arguments:',
          command.argument ? [[command.argument.name, command.argument.description]] : [],
        ],
        ['Options:', [...command.options, HELP].map((o) => [o.flag, optionText(o)])],
      ]
    : [
        ['Options:', [VERSION, ...program.options, HELP].map((o) => [o.flag, optionText(o)])],
        [
          'Commands:',
          [
            ...program.commands.map((c): [string, string] => [
              c.options.length ? usageOf(c) : usageOf(c).replace(' [options]', ''),
              c.description,
            ]),
            ['help [command]', 'display help for command'],
          ],
        ],
      ]
  const termWidth = Math.max(...sections.flatMap(([, rows]) => rows.map(([term]) => term.length)))
  const width = Math.max(columns, 40)
  const out = [
    `Usage: ${program.name} ${command ? usageOf(command) : '[options] [command]'}`,
    '',
    command ? command.description : program.description,
  ]
  for (const [title, rows] of sections) {
    if (rows.length === 0) continue
    out.push('', title)
    for (const [term, text] of rows)
      out.push(`  ${term.padEnd(termWidth)}  ${wrap(text, width - termWidth - 4, termWidth + 4)}`)
  }
  return out.join('\n') + '\n'
}
