import { resolve } from 'node:path'
import { helpText, parseCommandLine, type CommandDef, type ProgramDef } from './_args.js'
import { setupColors } from './_colors.js'
import type { Io } from './io.js'

/** Options every command sees. */
export interface GlobalOptions {
  flytekitVersion?: string
  defaultPythonVersion?: string
  debug?: boolean
  builderModule?: string[]
  directory?: string
  module?: string[]
}

/** A command's handler: the parser gives it the argument and the options (camelCased) its definition declares. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command declares its own argument and options
type Handler = (io: Io, g: GlobalOptions, argument: any, options: any) => Promise<number>

const spec = (
  description = 'spec file, - for standard input, or Python sources: file.py, file.py:LINE, a folder',
) => ({
  name: 'spec',
  description,
  required: true,
})

/** `--select`, on every command that takes Python sources. */
const select = {
  flag: '--select <var>',
  description: 'for Python sources: the ImageSpec assigned to this variable',
}

/** The commands; each loads its module (and the builder) only when it runs. */
const commands: (CommandDef & { load: () => Promise<Handler> })[] = [
  {
    name: 'name',
    description: 'print the full image name ([registry/]name:tag)',
    argument: spec(
      'spec file (YAML or JSON), - for standard input, or Python sources: file.py, file.py:LINE, a folder',
    ),
    options: [{ flag: '--json', description: 'print {"id","tag","image_name"}' }, select],
    load: async () => (await import('./commands/name.js')).nameCommand,
  },
  {
    name: 'validate',
    description: 'check a spec: silent on success, one "field: message" line per problem otherwise',
    argument: spec(),
    options: [
      {
        flag: '--json',
        description: 'print {"valid","problems":[{"field","message","code"}],"warnings"}',
      },
      select,
    ],
    load: async () => (await import('./commands/validate.js')).validateCommand,
  },
  {
    name: 'render',
    description: 'write the build context (Dockerfile and files) to a directory',
    argument: spec(),
    options: [
      { flag: '--out <dir>', description: 'directory to write the context to (new or empty)' },
      { flag: '--force', description: 'replace the content of a non-empty --out directory' },
      { flag: '--dockerfile-only', description: 'print the Dockerfile instead' },
      { flag: '--json', description: 'print {"out","files","dockerfile"}' },
      select,
    ],
    load: async () => (await import('./commands/render.js')).renderCommand,
  },
  {
    name: 'exists',
    description: 'does the image exist? exit 0 exists, 1 missing, 3 unknown',
    argument: { ...spec(), required: false },
    options: [
      { flag: '--ref <ref>', description: 'probe this image reference instead of a spec' },
      { flag: '--json', description: 'print {"status","ref","digest","platforms","reason"}' },
      select,
    ],
    load: async () => (await import('./commands/exists.js')).existsCommand,
  },
  {
    name: 'explain',
    description: 'show what the tag is made of; with --against, which fields and files changed it',
    argument: spec(),
    options: [
      {
        flag: '--against <spec|image>',
        description: 'another spec file, or an image built by imagespec (local engine)',
      },
      { flag: '--json', description: 'print {"tag","against_tag","changed",...}' },
    ],
    load: async () => (await import('./commands/explain.js')).explainCommand,
  },
  {
    name: 'scan',
    description: 'list the ImageSpecs that Python files and folders construct (no Python needed)',
    argument: {
      name: 'paths',
      description: '.py files and folders (every .py under a folder, honouring .gitignore)',
      required: true,
      variadic: true,
    },
    options: [
      {
        flag: '--json',
        description:
          'print {"specs":[{"file","line","variable","spec"}],"skipped":[{"file","line","reason"}]}',
      },
    ],
    load: async () => (await import('./commands/scan.js')).scanCommand,
  },
  {
    name: 'build',
    description: 'build the image (nested base specs first) and push it, unless it already exists',
    argument: spec(),
    options: [
      { flag: '--push', description: 'push after building (default: FLYTE_PUSH_IMAGE_SPEC, on)' },
      { flag: '--no-push', description: 'build without pushing' },
      {
        flag: '--force',
        description: 'rebuild and push even if the image exists (FLYTE_FORCE_PUSH_IMAGE_SPEC)',
      },
      {
        flag: '--dry-run',
        description:
          'print the image name, the decision, the Dockerfile and the engine call; change nothing',
      },
      { flag: '--builder <name>', description: 'builder to use instead of the spec\'s "builder"' },
      {
        flag: '--platform <platform>',
        description: "target platform (overrides the spec's platform, so the tag changes)",
      },
      {
        flag: '--progress <mode>',
        description: 'progress output',
        choices: ['auto', 'plain', 'json'],
        default: 'auto',
      },
      {
        flag: '--network <mode>',
        description: 'build network mode, e.g. host (env IMAGESPEC_BUILD_NETWORK)',
      },
      {
        flag: '--label <key=value>',
        description: 'label for the image (repeatable)',
        multiple: true,
      },
      {
        flag: '--cache-from <cache>',
        description:
          'import a build cache: type=registry,ref=<image> (repeatable; env IMAGESPEC_CACHE_FROM)',
        multiple: true,
      },
      {
        flag: '--cache-to <cache>',
        description:
          'export a build cache: type=inline, or type=registry,ref=<ref>[,mode=max] (env IMAGESPEC_CACHE_TO)',
        multiple: true,
      },
      {
        flag: '--json',
        description:
          'last stdout line {"image","status","digest","platforms"}; with --dry-run {"image","would_build",…}',
      },
      select,
      { flag: '--jobs <n>', description: 'for Python sources: images built at once (default 2)' },
      {
        flag: '--engines <file>',
        description: 'YAML/JSON fleet file of engines to build on (env IMAGESPEC_ENGINES)',
      },
    ],
    load: async () => (await import('./commands/build.js')).buildCommand,
  },
]

commands.push(
  {
    name: 'init',
    description:
      'write a commented imagespec.yaml (from a requirements file, pyproject.toml or a lock file)',
    options: [
      {
        flag: '--from <file>',
        description: 'requirements.txt, pyproject.toml, uv.lock or poetry.lock to start from',
      },
      { flag: '--out <file>', description: 'where to write the spec (default imagespec.yaml)' },
      { flag: '--force', description: 'overwrite an existing file' },
      { flag: '--json', description: 'print {"out"}' },
    ],
    load: async () => (await import('./commands/init.js')).initCommand,
  },
  {
    name: 'completion',
    description: 'print a shell completion script (bash, zsh or fish)',
    argument: { name: 'shell', description: 'bash, zsh or fish', required: true },
    options: [],
    load: async () => {
      const { completionCommand } = await import('./commands/completion.js')
      return (io, _g, shell: string) => completionCommand(io, program, shell)
    },
  },
)

/** The `imagespec` command line: global options, then a command. */
const program: ProgramDef = {
  name: 'imagespec',
  description: 'Build flytekit-compatible container images from ImageSpec files',
  options: [
    {
      flag: '--flytekit-version <version>',
      description: 'flytekit version pinned in the image (env IMAGESPEC_FLYTEKIT_VERSION)',
    },
    {
      flag: '--default-python-version <version>',
      description: 'python_version when the spec sets none (env IMAGESPEC_DEFAULT_PYTHON_VERSION)',
    },
    {
      flag: '--builder-module <path|pkg>',
      description: 'load a third-party builder (repeatable)',
      multiple: true,
    },
    {
      flag: '--module <file.py>',
      description:
        'a Python file your workflow loads from source_root, with its imports (repeatable; the LOADED_MODULES copy mode)',
      multiple: true,
    },
    {
      flag: '-C, --directory <dir>',
      description:
        'run as if started in <dir>: the spec path and the relative paths in the spec resolve from there',
    },
    { flag: '--debug', description: 'show stack traces and causes' },
  ],
  commands,
}

/** Runs the CLI; resolves to the exit status (2 for a usage error). Never throws. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  setupColors(io.stderr, io.env)
  const columns = (out: Io['stdout']) => (out.isTTY && out.columns) || 80
  let debug = argv.includes('--debug')
  try {
    const parsed = parseCommandLine(program, argv)
    if (parsed.kind === 'help') {
      io.stdout.write(helpText(program, parsed.command, columns(io.stdout)))
      return 0
    }
    if (parsed.kind === 'version') {
      const { version } = await import('./_version.js')
      io.stdout.write(`${version}\n`)
      return 0
    }
    const g = parsed.globals as GlobalOptions
    debug = Boolean(g.debug)
    const handler = await (parsed.command as (typeof commands)[number]).load()
    // Relative paths in a spec resolve from the working directory, as in flytekit (docs/compat.md); -C moves it.
    // Copied by descriptor, not spread: a spread would call the `stdin` getter, and making process.stdin loads Node's
    // fs streams and fs/promises (~5 ms of a quick command).
    const dir =
      g.directory === undefined
        ? io
        : (Object.defineProperties(
            {},
            {
              ...Object.getOwnPropertyDescriptors(io),
              cwd: { value: resolve(io.cwd, g.directory), enumerable: true },
            },
          ) as Io)
    return await handler(dir, g, parsed.argument, parsed.options)
  } catch (err) {
    const { printError, printJsonError } = await import('./print-error.js') // not loaded by --version, --help
    // Under --json an error is one JSON object on stdout, whatever the command.
    if (argv.includes('--json')) return printJsonError(err, io.stdout, { debug, stderr: io.stderr })
    return printError(err, io.stderr, {
      debug,
      help: (command) => helpText(program, command, columns(io.stderr)),
    })
  }
}
