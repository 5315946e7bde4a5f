// flytekit's ignore rules for the ALL source copy (flytekit/tools/ignore.py): GitIgnore, DockerIgnore, StandardIgnore.
import { existsSync, statSync } from 'node:fs'
import { readFileText } from './_fs.js'
import path from 'node:path'
import { DockerPatternMatcher, parseDockerignore } from './_docker-pattern.js'

/** flytekit's STANDARD_IGNORE_PATTERNS, matched with Python's fnmatch (`*` also matches `/`). */
export const STANDARD_IGNORE_PATTERNS = [
  '*.pyc',
  '.cache',
  '.cache/*',
  '__pycache__/*',
  '**/__pycache__/*',
] as const

// Python `fnmatch` against STANDARD_IGNORE_PATTERNS, spelled out (there `*` also matches `/`, so the last two
// patterns both mean "a __pycache__/ segment anywhere").
export function isStandardIgnored(p: string): boolean {
  return (
    p.endsWith('.pyc') ||
    p === '.cache' ||
    p.startsWith('.cache/') ||
    p.startsWith('__pycache__/') ||
    p.includes('/__pycache__/')
  )
}

async function run(cwd: string, args: string[]): Promise<string | undefined> {
  const { execFile } = await import('node:child_process') // only when a repository may be there
  return new Promise((resolve) => {
    execFile('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30 }, (err, stdout) =>
      resolve(err ? undefined : stdout),
    )
  })
}

// Names that `git ls-files` prints C-quoted by default (core.quotePath): flytekit compares them quoted, so they never match.
const GIT_QUOTED = /[\x00-\x1f\x7f"\\]|[^\x00-\x7f]/u

/** The files and directories `git ls-files -io --exclude-standard [--directory]` reports under `root` (empty sets outside a repository). */
export interface GitIgnored {
  files: ReadonlySet<string>
  dirs: ReadonlySet<string>
}

function ignoredDirPruner(git: GitIgnored): (dir: string) => boolean {
  // git lists a nested repository inside an ignored directory as `dir/` among the *files*, and flytekit then keeps
  // its files: such directories must be walked.
  const nested = [...git.files].filter((f) => f.endsWith('/'))
  return (dir) => git.dirs.has(`${dir}/`) && !nested.some((n) => n.startsWith(`${dir}/`))
}

/**
 * Whether git can find a repository for `dir` (GIT_DIR is set, or `.git` exists in `dir` or above). When it cannot,
 * `git ls-files` fails and reports nothing, so it need not be started (two processes: ~15 ms).
 */
function mayBeInRepository(dir: string): boolean {
  if (process.env.GIT_DIR) return true
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (existsSync(path.join(d, '.git'))) return true
    if (path.dirname(d) === d) return false
  }
}

/** Runs git once for ignored files and once for ignored directories (listed with a trailing `/`). */
async function gitIgnored(root: string): Promise<GitIgnored> {
  const base = ['-c', 'core.quotePath=false', 'ls-files', '-z', '-io', '--exclude-standard']
  const [files, dirs] = mayBeInRepository(root)
    ? await Promise.all([run(root, base), run(root, [...base, '--directory'])])
    : [undefined, undefined]
  const set = (out: string | undefined) => new Set((out ?? '').split('\0').filter((p) => p !== ''))
  return { files: set(files), dirs: set(dirs) }
}

/** What the ignore rules of a root are made from: git's answers and the `.dockerignore` text. */
export interface IgnoreInputs {
  git: GitIgnored
  dockerignore: string
  /** Whether git named a path that flytekit would see C-quoted (its quoting then changes the rules). */
  quoted: boolean
}

/** Reads `<root>/.dockerignore` and asks git for the ignored paths of `root`. */
export async function loadIgnoreInputs(root: string): Promise<IgnoreInputs> {
  const [git, dockerignore] = await Promise.all([
    gitIgnored(root),
    // Only a regular file is read: a FIFO or a device named .dockerignore would block or never end.
    statSync(path.join(root, '.dockerignore'), { throwIfNoEntry: false })?.isFile()
      ? readFileText(path.join(root, '.dockerignore')).catch(() => '')
      : Promise.resolve(''),
  ])
  const quoted = [...git.files, ...git.dirs].some((p) => GIT_QUOTED.test(p))
  return { git, dockerignore, quoted }
}

/** flytekit's IgnoreGroup(root, [GitIgnore, DockerIgnore, StandardIgnore]) for paths relative to the root. */
export class IgnoreRules {
  private readonly prunable: (dir: string) => boolean

  private constructor(
    private readonly git: GitIgnored,
    private readonly docker: DockerPatternMatcher,
  ) {
    this.prunable = ignoredDirPruner(git)
  }

  /**
   * The rules from `inputs`; with `flytekitQuoting`, paths git would print C-quoted are dropped from its answers, as
   * flytekit compares them quoted and so never matches them.
   */
  static from(inputs: IgnoreInputs, opts: { flytekitQuoting?: boolean } = {}): IgnoreRules {
    const keep = (set: ReadonlySet<string>) =>
      opts.flytekitQuoting && inputs.quoted
        ? new Set([...set].filter((p) => !GIT_QUOTED.test(p)))
        : set
    return new IgnoreRules(
      { files: keep(inputs.git.files), dirs: keep(inputs.git.dirs) },
      new DockerPatternMatcher(parseDockerignore(inputs.dockerignore)),
    )
  }

  /** Whether a file at `p` (POSIX, relative to the root, or as flytekit saw it for a relative root) is ignored. */
  isIgnored(p: string): boolean {
    return this.git.files.has(p) || isStandardIgnored(p) || this.docker.matches(p)
  }

  /** Whether git reports the whole directory `p` as ignored: every file below it is ignored, so the walk can skip it. */
  isIgnoredDir(p: string): boolean {
    return this.prunable(p)
  }
}
