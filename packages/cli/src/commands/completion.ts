import { ImagespecError } from '@imagespec/spec'
import type { CommandDef, OptionDef, ProgramDef } from '../_args.js'
import type { Io } from '../io.js'

const SHELLS = ['bash', 'zsh', 'fish'] as const
type Shell = (typeof SHELLS)[number]

const longs = (opts: readonly OptionDef[]) => opts.map((o) => /--[\w-]+/.exec(o.flag)![0])
const takesValue = (o: OptionDef) => o.flag.includes('<')
const sq = (s: string) => `'${s.replaceAll("'", "'\\''")}'`

/** bash (and zsh through bashcompinit): commands, each command's options, option values, then files. */
function bash(p: ProgramDef): string {
  const globals = ['--help', '--version', ...longs(p.options)].join(' ')
  const cases = p.commands
    .map((c) => `      ${c.name}) opts=${sq(longs(c.options).join(' '))} ;;`)
    .join('\n')
  const valued = [...p.options, ...p.commands.flatMap((c) => c.options)].filter(takesValue)
  const choices = valued
    .filter((o) => o.choices)
    .map(
      (o) =>
        `    ${longs([o])[0]}) COMPREPLY=($(compgen -W ${sq(o.choices!.join(' '))} -- "$cur")); return ;;`,
    )
  const free = [...new Set(valued.filter((o) => !o.choices).map((o) => longs([o])[0]))].join('|')
  return `# imagespec completion for bash: eval "$(imagespec completion bash)" (e.g. in ~/.bashrc)
_imagespec() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd="" opts="" i w
  case "$prev" in
${choices.join('\n')}
    ${free}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      -*) ;;
      *) case "\${COMP_WORDS[i-1]}" in ${free}) ;; *) cmd="$w"; break ;; esac ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W ${sq([...p.commands.map((c) => c.name), 'help'].join(' '))}' ${globals}' -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts ${globals}" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -o bashdefault -F _imagespec imagespec
`
}

function zsh(p: ProgramDef): string {
  return `#compdef imagespec
# imagespec completion for zsh: eval "$(imagespec completion zsh)" (e.g. in ~/.zshrc, after compinit)
autoload -U +X bashcompinit && bashcompinit
${bash(p).split('\n').slice(1).join('\n')}`
}

function fish(p: ProgramDef): string {
  const desc = (s: string) => sq(s.replace(/\s+/g, ' '))
  const opt = (o: OptionDef, cond: string) => {
    const long = longs([o])[0].slice(2)
    const value = takesValue(o) ? (o.choices ? ` -r -f -a ${sq(o.choices.join(' '))}` : ' -r') : ''
    return `complete -c imagespec${cond} -l ${long}${value} -d ${desc(o.description)}`
  }
  const lines = [
    '# imagespec completion for fish: imagespec completion fish > ~/.config/fish/completions/imagespec.fish',
    'complete -c imagespec -f',
    ...p.commands.map(
      (c: CommandDef) =>
        `complete -c imagespec -n __fish_use_subcommand -a ${c.name} -d ${desc(c.description)}`,
    ),
    ...p.options.map((o) => opt(o, '')),
    ...p.commands.flatMap((c) => [
      `complete -c imagespec -n '__fish_seen_subcommand_from ${c.name}' -F`,
      ...c.options.map((o) => opt(o, ` -n '__fish_seen_subcommand_from ${c.name}'`)),
    ]),
  ]
  return lines.join('\n') + '\n'
}

/** `imagespec completion bash|zsh|fish`: prints the completion script for that shell. */
export async function completionCommand(
  io: Io,
  program: ProgramDef,
  shell: string,
): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new ImagespecError('E_USAGE', `Unknown shell "${shell}"`, {
      hint: `Use one of ${SHELLS.join(', ')}`,
    })
  }
  const scripts: Record<Shell, (p: ProgramDef) => string> = { bash, zsh, fish }
  io.stdout.write(scripts[shell as Shell](program))
  return 0
}
