// flytekit's create_docker_context: the installers plan, the renderer renders, and the context files are placed in
// flytekit's order of operations, so an error leaves the same files behind as flytekit does (context_files_at_error).
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  ImagespecError,
  IMAGE_SPEC_FIELDS,
  computeId,
  copyEntryStat,
  dictEntries,
  entryKind,
  listSourceFiles,
  pyRepr,
  pyStr,
  readLockProject,
  installProjectOption,
  realRoot,
  type BuildContextPlan,
  type ContextFile,
  type ImageSpec,
  type LoadedSpec,
  type Logger,
  type SourceWalks,
} from '@imagespec/spec'
import {
  defaultRenderSettings,
  renderDockerfile,
  resolveBaseImage,
  resolveRenderSettings,
  validateSpecForDockerfile,
  openContextWriter,
  type CopyEntry,
  type RenderSettings,
} from '@imagespec/dockerfile'
import {
  DEFAULT_FLYTEKIT_VERSION,
  DEFAULT_PIP_BASE_IMAGE,
  planPackages,
  planPython,
  resolveInstallerSettings,
  type InstallerSettings,
} from '@imagespec/installers'

/** Settings of the context: rendering, installers, and the host facts flytekit reads from its Python process. */
export interface ContextSettings extends RenderSettings, InstallerSettings {
  /** Called for each warning as it is raised (they are also returned in the plan). */
  onWarning?: (message: string) => void
  /** Receives one line per installer/provider attempt. */
  logger?: Logger
  /** LOADED_MODULES copy mode: absolute paths standing in for Python's imported modules. */
  loadedModules?: readonly string[]
  /** `_F_IMG_ID` to write instead of the spec's own id (the engine passes the id taken before base specs resolve). */
  imageId?: string
  /** Walks of `source_root` already made for the tag of the same command (`createSourceWalks()`), reused. */
  sourceWalks?: SourceWalks
}

/**
 * Settings from the environment (`IMAGESPEC_FLYTEKIT_VERSION`, `IMAGESPEC_DEFAULT_PYTHON_VERSION`,
 * `IMAGESPEC_DOCKERFILE_SYNTAX`, `IMAGESPEC_CUDA_IMAGE`, `IMAGESPEC_COMPAT`), then `overrides` (CLI flags).
 */
export function resolveContextSettings(
  env: Record<string, string | undefined>,
  overrides: Partial<ContextSettings> = {},
): ContextSettings {
  return {
    ...overrides,
    ...resolveRenderSettings(env, overrides),
    ...resolveInstallerSettings(env, overrides),
  }
}

const COPY_MODE_NUMBER = { LOADED_MODULES: 1, ALL: 2, NO_COPY: 3 } as const

/** Python's dataclass repr of the spec (flytekit puts it in the missing-source_root error, vector 41). */
function specRepr(spec: ImageSpec): string {
  const field = (k: (typeof IMAGE_SPEC_FIELDS)[number]): string => {
    const v = spec[k]
    if (k === 'source_copy_mode' && typeof v === 'string')
      return `<CopyFileDetection.${v}: ${COPY_MODE_NUMBER[spec.source_copy_mode!]}>`
    if (k === 'base_image' && v !== null && typeof v === 'object') return specRepr(v as ImageSpec)
    if (k === 'pip_secret_mounts' && v !== null)
      return `[${spec.pip_secret_mounts!.map(([a, b]) => `(${pyRepr(a)}, ${pyRepr(b)})`).join(', ')}]`
    return pyRepr(v as Parameters<typeof pyRepr>[0])
  }
  return `ImageSpec(${IMAGE_SPEC_FIELDS.map((k) => `${k}=${field(k)}`).join(', ')})`
}

/** pathlib's `Path(src).as_posix()`: `//` and `.` segments collapse (absolute paths and `..` are refused before). */
function copyPath(src: string): string {
  const parts = src.split('/').filter((p) => p !== '' && p !== '.')
  return parts.length === 0 ? '.' : parts.join('/')
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * A copy directory's files in sorted order (empty directories kept, as shutil.copytree keeps them), under the rule the
 * tag digest uses (spec's `entryKind`): links to directories are not followed, links leaving the tree and special
 * files are refused, so the context holds exactly the files the tag was computed from.
 */
async function* treeFiles(
  abs: string,
  rel: string,
  rootReal = realRoot(abs),
): AsyncGenerator<ContextFile> {
  const entries = (await readdir(abs, { withFileTypes: true })).sort((a, b) =>
    byCodePoint(a.name, b.name),
  )
  if (entries.length === 0) yield { path: rel, directory: true }
  for (const entry of entries) {
    const kind = entryKind(join(abs, entry.name), entry, rootReal)
    if (kind === 'dir') yield* treeFiles(join(abs, entry.name), `${rel}/${entry.name}`, rootReal)
    else if (kind === 'file') yield { path: `${rel}/${entry.name}`, source: join(abs, entry.name) }
  }
}

async function checkSource(file: ContextFile): Promise<void> {
  if (file.source === undefined) return
  try {
    await stat(file.source)
  } catch (cause) {
    throw new ImagespecError(
      'E_CONTEXT',
      file.missingMessage ?? `Context source "${file.source}" does not exist`,
      {
        cause,
        field: file.path,
      },
    )
  }
}

async function build(
  loaded: LoadedSpec,
  partial: Partial<ContextSettings>,
  place: (file: ContextFile) => Promise<void>,
): Promise<BuildContextPlan> {
  const settings: ContextSettings = {
    ...defaultRenderSettings,
    flytekitVersion: DEFAULT_FLYTEKIT_VERSION,
    pipBaseImage: DEFAULT_PIP_BASE_IMAGE,
    ...partial,
  }
  const { spec, cwd } = loaded
  const warnings: string[] = []
  const warn = (message: string) => {
    warnings.push(message)
    settings.onWarning?.(message)
  }
  const files: ContextFile[] = []
  const add = async (file: ContextFile) => {
    await place(file)
    files.push(file)
  }
  validateSpecForDockerfile(spec)
  for (const [key, value] of dictEntries(spec.env ?? {}))
    if (typeof value !== 'string')
      warn(
        `env.${key}: ${pyRepr(value)} is not a string; it is written as ${pyStr(value)} (Python's str(), as flytekit does). Quote it in the spec to choose the text, e.g. "${pyStr(value)}"`,
      )

  // 1-2. base image; cuda/cudnn
  const base = resolveBaseImage(spec, settings)
  base.warnings.forEach(warn)

  // 3. prepare_python_install
  const ictx = {
    cwd,
    flytekitVersion: settings.flytekitVersion,
    defaultPythonVersion: settings.defaultPythonVersion,
    pipBaseImage: settings.pipBaseImage,
    warn,
    logger: settings.logger,
    // uv workspaces and install_project: the lock's members and the project's files, read ahead (asynchronous)
    lockProject: await readLockProject(spec, cwd),
  }
  if (installProjectOption(spec) && !/(^|\/)(uv|poetry)\.lock$/.test(spec.requirements ?? ''))
    warn(
      'builder_options.install_project applies to requirements: uv.lock or poetry.lock only; it is ignored here',
    )
  const packages = planPackages(spec, ictx)
  for (const f of packages.files) await add(f)

  // 6. source copy
  const mode = spec.source_copy_mode
  const copySource = mode !== null && mode !== 'NO_COPY'
  if (copySource) {
    if (!spec.source_root)
      throw new ImagespecError(
        'E_SPEC_INVALID',
        `Field source_root for ${specRepr(spec)} must be set when copy is set`,
        {
          field: 'source_root',
        },
      )
    const root = resolve(cwd, spec.source_root)
    if (mode === 'LOADED_MODULES' && !settings.loadedModules?.length)
      warn(
        `source_root "${spec.source_root}" is copied in the LOADED_MODULES mode (source_copy_mode unset), which copies the modules a Python process loaded; there are none here, so nothing is copied. Name them with --module <file.py> (their imports inside source_root follow) or set source_copy_mode: all`,
      )
    await add({ path: 'src', directory: true })
    const { files: sources } = await listSourceFiles(root, mode, {
      loadedModules: settings.loadedModules,
      digest: false,
      sourceWalks: settings.sourceWalks,
    })
    for (const rel of sources) await add({ path: `src/${rel}`, source: join(root, rel) })
  }

  // 7. prepare_python_executable
  const python = planPython(spec, ictx)

  // 10. copy entries, at their relative paths
  const copies: CopyEntry[] = []
  for (const [i, src] of (spec.copy ?? []).entries()) {
    const st = copyEntryStat(src, i, cwd) // refuses absolute paths, `..`, special files and links leaving the spec's directory
    const path = copyPath(src)
    const abs = resolve(cwd, path)
    if (st === undefined)
      throw new ImagespecError('E_CONTEXT', `copy[${i}]: "${src}" does not exist`, {
        field: `copy[${i}]`,
      })
    if (st.isDirectory()) for await (const f of treeFiles(abs, path)) await add(f)
    else await add({ path, source: abs })
    copies.push({ path, isDirectory: st.isDirectory() })
  }

  // 12-13. id and Dockerfile
  const dockerfile = renderDockerfile(
    {
      // flytekit's default base has no Python; a provider that needs one (the pip installer) names its own.
      baseImage: base.isDefault && python.defaultBaseImage ? python.defaultBaseImage : base.image,
      install: { packages, python },
      env: spec.env,
      aptPackages: spec.apt_packages,
      copySource,
      entrypoint: spec.entrypoint,
      copies,
      commands: spec.commands,
      imageId: settings.imageId ?? computeId(spec),
    },
    settings,
  )
  return {
    dockerfile,
    files,
    warnings,
    secrets: packages.secrets.map(({ id, src }) => ({ id, src })),
  }
}

/**
 * The build context of a spec as data: the Dockerfile text and the files to place (sources are checked, not read).
 * Pass it to `writeContext` or `packContext` from @imagespec/dockerfile.
 */
export function createContextPlan(
  loaded: LoadedSpec,
  settings: Partial<ContextSettings> = {},
): Promise<BuildContextPlan> {
  return placeConcurrently((place) => build(loaded, settings, place), checkSource)
}

/** Context sources checked at once: the thread pool has 4 threads, and a few more keep it busy. */
const PLACE_CONCURRENCY = 16

/**
 * Runs `run` with a `place` that starts `work` on each file and returns at once, with at most PLACE_CONCURRENCY
 * running. Every file's work has ended before this returns or throws, so the files placed when an error fires are
 * the ones placed before it, as when placing one by one; the first error (of `run` or of a file) is thrown.
 */
async function placeConcurrently<T>(
  run: (place: (file: ContextFile) => Promise<void>) => Promise<T>,
  work: (file: ContextFile) => Promise<void>,
): Promise<T> {
  const running = new Set<Promise<void>>()
  // Callers waiting for a free slot, woken one per finished file (a Promise.race over the running set on every call
  // cost more than the copies' own JavaScript on a 20k-file tree).
  const waiting: (() => void)[] = []
  let failed: { error: unknown } | undefined
  const place = async (file: ContextFile) => {
    while (running.size >= PLACE_CONCURRENCY) await new Promise<void>((r) => waiting.push(r))
    if (failed) throw failed.error
    const p: Promise<void> = work(file)
      .catch((error: unknown) => void (failed ??= { error }))
      .finally(() => {
        running.delete(p)
        waiting.shift()?.()
      })
    running.add(p)
  }
  let result: T
  try {
    result = await run(place)
  } finally {
    await Promise.all(running)
  }
  if (failed) throw failed.error
  return result
}

/**
 * flytekit's create_docker_context: writes the context to `dir` file by file in flytekit's order (on one writer
 * thread while the plan is made), then the `Dockerfile`. When an error fires, the files placed before it stay (as in
 * flytekit).
 */
export async function createDockerContext(
  loaded: LoadedSpec,
  dir: string,
  settings: Partial<ContextSettings> = {},
): Promise<BuildContextPlan> {
  await mkdir(dir, { recursive: true })
  const writer = openContextWriter(dir)
  let plan: BuildContextPlan
  try {
    plan = await build(loaded, settings, async (file) => writer.place(file))
  } finally {
    // The files placed are written, also before an error; a write that failed (it came first) replaces the error.
    await writer.close()
  }
  await writeFile(join(dir, 'Dockerfile'), plan.dockerfile)
  return plan
}
