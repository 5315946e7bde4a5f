import { Command, CommanderError, Option } from 'commander'
import { setupColors } from './_colors.js'
import { version } from './_version.js'
import type { Io } from './_io.js'

/** Options every command sees. */
export interface GlobalOptions {
  flytekitVersion?: string
  defaultPythonVersion?: string
  debug?: boolean
  builderModule?: string[]
}

const collect = (value: string, previous: string[] = []) => [...previous, value]

/** Builds the commander program; command handlers load their modules (and the builder) only when they run. */
export function createProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('imagespec')
    .description('Build flytekit-compatible container images from ImageSpec files')
    .version(version)
    .option('--flytekit-version <version>', 'flytekit version pinned in the image (env IMAGESPEC_FLYTEKIT_VERSION)')
    .option('--default-python-version <version>', 'python_version when the spec sets none (env IMAGESPEC_DEFAULT_PYTHON_VERSION)')
    .option('--builder-module <path|pkg>', 'load a third-party builder (repeatable)', collect)
    .option('--debug', 'show stack traces and causes')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError()

  const globals = (): GlobalOptions => program.opts<GlobalOptions>()
  const run =
    <A extends unknown[]>(load: () => Promise<(io: Io, g: GlobalOptions, ...a: A) => Promise<number>>) =>
    async (...args: A) => {
      const handler = await load()
      setExit(await handler(io, globals(), ...args))
    }

  program
    .command('name')
    .description('print the full image name ([registry/]name:tag)')
    .argument('<spec>', 'spec file (YAML or JSON), or - for standard input')
    .option('--json', 'print {"id","tag","image_name"}')
    .action(run(async () => (await import('./commands/name.js')).nameCommand))

  program
    .command('validate')
    .description('check a spec: silent on success, one "field: message" line per problem otherwise')
    .argument('<spec>', 'spec file, or - for standard input')
    .action(run(async () => (await import('./commands/validate.js')).validateCommand))

  program
    .command('render')
    .description('write the build context (Dockerfile and files) to a directory')
    .argument('<spec>', 'spec file, or - for standard input')
    .option('--out <dir>', 'directory to write the context to')
    .option('--dockerfile-only', 'print the Dockerfile instead')
    .action(run(async () => (await import('./commands/render.js')).renderCommand))

  program
    .command('exists')
    .description('does the image exist? exit 0 exists, 1 missing, 3 unknown')
    .argument('[spec]', 'spec file, or - for standard input')
    .option('--ref <ref>', 'probe this image reference instead of a spec')
    .option('--json', 'print {"status","ref","digest","platforms","reason"}')
    .action(run(async () => (await import('./commands/exists.js')).existsCommand))

  program
    .command('build')
    .description('build the image (nested base specs first) and push it, unless it already exists')
    .argument('<spec>', 'spec file, or - for standard input')
    .option('--push', 'push after building (default: FLYTE_PUSH_IMAGE_SPEC, on)')
    .option('--no-push', 'build without pushing')
    .option('--force', 'rebuild and push even if the image exists (FLYTE_FORCE_PUSH_IMAGE_SPEC)')
    .option('--dry-run', 'print the image name, the decision, the Dockerfile and the engine call; change nothing')
    .option('--builder <name>', 'builder to use instead of the spec\'s "builder"')
    .option('--platform <platform>', 'target platform (overrides the spec\'s platform, so the tag changes)')
    .addOption(new Option('--progress <mode>', 'progress output').choices(['auto', 'plain', 'json']).default('auto'))
    .option('--network <mode>', 'build network mode, e.g. host (env IMAGESPEC_BUILD_NETWORK)')
    .option('--label <key=value>', 'label for the image (repeatable)', collect)
    .action(run(async () => (await import('./commands/build.js')).buildCommand))

  return program
}

/** Runs the CLI; resolves to the exit status. Never throws. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let code = 0
  setupColors(io.stderr, io.env)
  const program = createProgram(io, (c) => (code = c))
  try {
    await program.parseAsync(argv as string[], { from: 'user' })
    return code
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2
    }
    const debug = Boolean(program.opts<GlobalOptions>().debug) || argv.includes('--debug')
    const { printError } = await import('./print-error.js') // not loaded (nor @imagespec/spec) by --version, --help
    return printError(err, io.stderr, { debug })
  }
}
