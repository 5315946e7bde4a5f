// The ImageSpec zod schema: flytekit's 29 fields under flytekit's names, flytekit's normalization and messages.
import os from 'node:os'
import * as z from 'zod/mini'
import en from 'zod/v4/locales/en.js'
import { PyFloat } from './types.js'
import type { CopyMode, ImageSpec, PyValue } from './types.js'

/** Host facts and engine state that flytekit's `__post_init__` reads. */
export interface NormalizeOptions {
  /** Python's `platform.machine()` of the host; default: from `os.arch()` (`x64` -> `x86_64`, `arm64` -> `aarch64`/`arm64`). */
  machine?: string
  /** The highest-priority registered builder, used when `builder` is unset; `null` = no builder registered. Default `"default"`. */
  defaultBuilder?: string | null
}

/** Python's `platform.machine()` for this host. */
export function hostMachine(): string {
  const arch = os.arch()
  if (arch === 'x64') return process.platform === 'win32' ? 'AMD64' : 'x86_64'
  if (arch === 'arm64') return process.platform === 'linux' ? 'aarch64' : 'arm64'
  if (arch === 'ia32') return 'i686'
  return arch
}

/** flytekit's list-of-strings checks, in the order `__post_init__` runs them. */
export const LIST_OF_STRING_FIELDS = [
  'packages',
  'conda_channels',
  'conda_packages',
  'apt_packages',
  'pip_extra_index_url',
  'entrypoint',
  'commands',
  'runtime_packages',
] as const

// flytekit's validate_container_registry_name (Python re.match: \d and \w are Unicode-aware; `$` accepts a final \n).
const REGISTRY_RE =
  /^(?:localhost:\p{Nd}{1,5}|[a-z\p{Nd}._-]+(?::\p{Nd}{1,5})?)(?:\/[\p{L}\p{N}_.-]+)*\n?$/u

/** flytekit's exact ValueError text for an invalid registry. */
export function invalidRegistryMessage(registry: string): string {
  return (
    `Invalid container registry name: '${registry}'.\n Expected formats:\n` +
    "- 'localhost:30000' (for local registries)\n- 'ghcr.io/username' (for GitHub Container Registry)\n" +
    "- 'docker.io/username' (for docker hub)\n"
  )
}

export function isValidRegistry(registry: string): boolean {
  return REGISTRY_RE.test(registry)
}

const COPY_MODE_ALIASES: Record<string, CopyMode> = {
  auto: 'LOADED_MODULES',
  loaded_modules: 'LOADED_MODULES',
  all: 'ALL',
  no_copy: 'NO_COPY',
  none: 'NO_COPY',
}

const COPY_MODE_SPELLINGS = [
  ...Object.keys(COPY_MODE_ALIASES),
  ...['LOADED_MODULES', 'ALL', 'NO_COPY'].flatMap((m) => [m, `CopyFileDetection.${m}`]),
]

/** Parses `auto`/`all`/`no_copy`/`none` (any case), `LOADED_MODULES`/`ALL`/`NO_COPY` and `CopyFileDetection.ALL`. */
export function parseCopyMode(value: string): CopyMode | undefined {
  return COPY_MODE_ALIASES[
    value
      .trim()
      .replace(/^copyfiledetection\./i, '')
      .toLowerCase()
  ]
}

const listMsg = (f: string) => `${f} must be a list of strings or None`
const SECRETS_MSG = 'pip_secret_mounts must be a list of tuples of two strings or None'
const BUILDER_OPTIONS_MSG = 'builder_options must be a dictionary or None'

// zod/mini: the core of `zod` without its method chains, a fraction of its load time (a spec is validated on every
// CLI start). `describe` registers a description as classic zod's `.describe()` does.
const describe = <T extends z.ZodMiniType>(schema: T, description: string): T => {
  z.globalRegistry.add(schema, { description })
  return schema
}
const nullish = <T extends z.ZodMiniType>(schema: T) => z.optional(z.nullable(schema))
const str = (field: string) => nullish(z.string({ error: `${field} must be a string or None` }))
const strList = (field: string) =>
  nullish(z.array(z.string({ error: listMsg(field) }), { error: listMsg(field) }))

/**
 * What `zod` sets up on first use and zod/mini leaves to the application, done before the first schema is built:
 * English messages (for the nested values that have no flytekit text) and the memoizer (cyclic YAML aliases).
 */
function zodDefaults(): void {
  if (!z.config().localeError) z.config(en())
  if (!z.config().memoizer) z.config({ memoizer: z.memoizer() })
}

let pyValueSchema: z.ZodMiniType<PyValue> | undefined
function pyValue(): z.ZodMiniType<PyValue> {
  return (pyValueSchema ??= z
    .lazy(() =>
      z.union([
        z.string(),
        z.number(),
        z.bigint(),
        z.boolean(),
        z.null(),
        z.instanceof(PyFloat),
        z.array(pyValue()),
        z.record(z.string(), pyValue()),
      ]),
    )
    .register(z.globalRegistry, { id: 'PyValue', description: 'Any YAML/JSON value' }))
}
const ENV_VALUE_MSG =
  'env values must be strings, numbers, booleans or None (not lists or mappings)'
const envValue = () =>
  z.union([z.string(), z.number(), z.bigint(), z.boolean(), z.null(), z.instanceof(PyFloat)], {
    error: ENV_VALUE_MSG,
  })
const dict = (message: string) => nullish(z.record(z.string(), pyValue(), { error: message }))

function buildSchema(opts: NormalizeOptions) {
  zodDefaults()
  const machine = (opts.machine ?? hostMachine()).toLowerCase()
  const defaultBuilder = opts.defaultBuilder === undefined ? 'default' : opts.defaultBuilder
  const nested: z.ZodMiniType<ImageSpec, unknown> = z.lazy(() => schema)
  const shape = {
    $schema: describe(
      z.optional(z.string({ error: '$schema must be a string' })),
      'JSON Schema of this file, for editors (imagespec only; never hashed, not a flytekit field).',
    ),
    name: describe(
      z.optional(z.string({ error: 'name must be a string' })),
      'Image name (repository part), lower-cased. Default "flytekit".',
    ),
    python_version: describe(
      nullish(
        z.union([z.string(), z.number(), z.bigint(), z.instanceof(PyFloat)], {
          error: 'python_version must be a string or a number or None',
        }),
      ),
      'Python version for micromamba, e.g. "3.12". Quote it in YAML: 3.10 is the float 3.1.',
    ),
    builder: describe(
      str('builder'),
      'Builder name; default: the registered builder with the highest priority. Not hashed.',
    ),
    source_root: describe(
      str('source_root'),
      'Directory whose files are copied to /root (see source_copy_mode). Hashed by content.',
    ),
    env: describe(
      nullish(
        z.record(z.string(), envValue(), {
          error: 'env must be a dictionary or None',
        }),
      ),
      'Environment variables set in the image (ENV). A value that is not a string is written as Python prints it (False, 1, 1.5, None).',
    ),
    registry: describe(
      z
        .pipe(
          nullish(z.string({ error: 'registry must be a string or None' })),
          z.transform((r) => (r ? r.toLowerCase() : r)),
        )
        .check(
          z.superRefine((r, ctx) => {
            if (r && !isValidRegistry(r))
              ctx.addIssue({ code: 'custom', message: invalidRegistryMessage(r) })
          }),
        ),
      'Registry to push to, e.g. "ghcr.io/org" or "localhost:30000"; lower-cased and validated.',
    ),
    packages: describe(strList('packages'), 'Python packages installed with uv pip.'),
    conda_packages: describe(
      strList('conda_packages'),
      'Conda packages installed with micromamba.',
    ),
    conda_channels: describe(strList('conda_channels'), 'Conda channels for conda_packages.'),
    requirements: describe(
      str('requirements'),
      'requirements.txt, uv.lock or poetry.lock path. Hashed by content.',
    ),
    apt_packages: describe(strList('apt_packages'), 'Debian packages installed with apt-get.'),
    cuda: describe(
      str('cuda'),
      'CUDA version; rejected by the default builder (use a CUDA base image).',
    ),
    cudnn: describe(str('cudnn'), 'cuDNN version; rejected by the default builder.'),
    base_image: describe(
      nullish(
        z.union([z.string(), nested], {
          error: 'base_image must be a string, an ImageSpec mapping or None',
        }),
      ),
      'Base image name, or a nested ImageSpec that is built first. Default debian:bookworm-slim.',
    ),
    platform: describe(
      str('platform'),
      'Target platform; default linux/amd64 (linux/arm64 for a localhost: registry on an arm64 host).',
    ),
    pip_index: describe(str('pip_index'), 'Python package index URL (--index-url).'),
    pip_extra_index_url: describe(
      strList('pip_extra_index_url'),
      'Extra package index URLs (--extra-index-url).',
    ),
    pip_secret_mounts: describe(
      nullish(
        z.array(z.tuple([z.string(), z.string()], { error: SECRETS_MSG }), { error: SECRETS_MSG }),
      ),
      '[source, target] pairs mounted as BuildKit secrets during the install. Not hashed.',
    ),
    pip_extra_args: describe(
      str('pip_extra_args'),
      'Extra arguments appended verbatim to the install command.',
    ),
    registry_config: describe(
      str('registry_config'),
      'Registry config file; unsupported by the default builder.',
    ),
    entrypoint: describe(strList('entrypoint'), 'Image ENTRYPOINT (exec form).'),
    commands: describe(
      strList('commands'),
      'Shell commands run at the end of the build, joined with &&.',
    ),
    tag_format: describe(
      str('tag_format'),
      'Python format string for the tag, e.g. "{spec_hash}-dev".',
    ),
    source_copy_mode: describe(
      nullish(
        z.pipe(
          z.string({ error: 'source_copy_mode must be a string or None' }),
          z.transform((v: string, ctx) => {
            const mode = parseCopyMode(v)
            if (mode) return mode
            ctx.issues.push({
              code: 'custom',
              message: `source_copy_mode must be one of auto, all, no_copy (got '${v}')`,
              input: v,
            })
            return z.NEVER
          }),
        ),
      ),
      'Which source_root files are copied: auto (loaded modules), all, or no_copy. Default auto.',
    ),
    copy: describe(
      strList('copy'),
      'Extra files or directories (relative to the spec) copied to /root.',
    ),
    python_exec: describe(
      str('python_exec'),
      'Existing Python in the base image; a venv is created from it.',
    ),
    runtime_packages: describe(
      strList('runtime_packages'),
      'Packages installed when the task starts. Not hashed.',
    ),
    builder_options: describe(
      dict(BUILDER_OPTIONS_MSG),
      'Builder-specific options; unused by the default builder.',
    ),
    builder_config: describe(
      dict('builder_config must be a dictionary or None'),
      'Default builder settings: uv_image and micromamba_image override the helper stage images.',
    ),
  }
  const schema = z.pipe(
    describe(z.strictObject(shape), 'A flytekit ImageSpec'),
    z.transform((s): ImageSpec => {
      const registry = s.registry ?? null
      const source_root = s.source_root ?? null
      const source_copy_mode =
        source_root !== null
          ? (s.source_copy_mode ?? 'LOADED_MODULES')
          : (s.source_copy_mode ?? null)
      const platform =
        s.platform ??
        (registry?.startsWith('localhost:') && (machine === 'arm64' || machine === 'aarch64')
          ? 'linux/arm64'
          : 'linux/amd64')
      return {
        name: (s.name ?? 'flytekit').toLowerCase(),
        python_version: s.python_version ?? null,
        builder: s.builder ?? defaultBuilder,
        source_root,
        env: s.env ?? null,
        registry,
        packages: s.packages ?? null,
        conda_packages: s.conda_packages ?? null,
        conda_channels: s.conda_channels ?? null,
        requirements: s.requirements ?? null,
        apt_packages: s.apt_packages ?? null,
        cuda: s.cuda ?? null,
        cudnn: s.cudnn ?? null,
        base_image: s.base_image ?? null,
        platform,
        pip_index: s.pip_index ?? null,
        pip_extra_index_url: s.pip_extra_index_url ?? null,
        pip_secret_mounts: s.pip_secret_mounts ?? null,
        pip_extra_args: s.pip_extra_args ?? null,
        registry_config: s.registry_config ?? null,
        entrypoint: s.entrypoint ?? null,
        commands: s.commands ?? null,
        tag_format: s.tag_format ?? null,
        source_copy_mode,
        copy: s.copy ?? null,
        python_exec: s.python_exec ?? null,
        runtime_packages: s.runtime_packages ?? null,
        builder_options: s.builder_options ?? null,
        builder_config: s.builder_config ?? null,
      }
    }),
  )
  return schema
}

/** The ImageSpec schema for the given host facts; its output is the normalized `ImageSpec`. */
export function createImageSpecSchema(opts: NormalizeOptions = {}) {
  return buildSchema(opts)
}

let hostSchema: ReturnType<typeof buildSchema> | undefined
/** @internal The schema behind `imageSpecSchema`, built on first use. */
export const hostImageSpecSchema = () => (hostSchema ??= buildSchema({}))

/**
 * The ImageSpec schema with this host's defaults (see `createImageSpecSchema`). A lazy schema: the real one is built
 * when it first parses, not when the package loads (which every CLI start does).
 */
export const imageSpecSchema = z.lazy(hostImageSpecSchema)

/** The input shape of a spec file (what YAML/JSON may contain). */
export type ImageSpecInput = z.input<typeof imageSpecSchema>

/** JSON Schema (draft 2020-12) of a spec file, generated from `imageSpecSchema` (what `schema.json` holds). */
export function imageSpecJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(hostImageSpecSchema(), {
    io: 'input',
    unrepresentable: 'any',
    // A PyFloat is how a YAML float reaches the schema; in a file it is a number.
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type === 'custom') ctx.jsonSchema.type = 'number'
      // An int beyond 2^53 arrives as a bigint; in a file it is an integer.
      if (ctx.zodSchema._zod.def.type === 'bigint') ctx.jsonSchema.type = 'integer'
    },
  })
  // flytekit's enum (CopyFileDetection): the spellings editors should offer (matching is case-insensitive).
  const props = schema.properties as Record<string, Record<string, unknown>>
  props.source_copy_mode = {
    description: props.source_copy_mode.description,
    anyOf: [{ enum: COPY_MODE_SPELLINGS }, { type: 'null' }],
  }
  return { ...schema, title: 'ImageSpec', $id: 'https://imagespec.dev/schema.json' }
}
