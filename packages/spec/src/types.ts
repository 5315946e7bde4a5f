/**
 * The normalized ImageSpec: flytekit's 29 dataclass fields, under flytekit's names and in flytekit's
 * declaration order (which is the key order of the hash pre-image). `null` means Python's None.
 */
export type CopyMode = 'LOADED_MODULES' | 'ALL' | 'NO_COPY'

const PY_FLOAT: unique symbol = Symbol.for('@imagespec/spec:PyFloat')

/**
 * A Python float that must keep its float repr (YAML `3.10` is the float 3.1, hashed as `3.1`).
 * `instanceof PyFloat` holds for a PyFloat made by any copy of this package (the bundled CLI and a builder plugin
 * each load their own): the check is a registered-symbol brand, not the prototype chain.
 */
export class PyFloat {
  declare readonly [PY_FLOAT]: true
  constructor(readonly value: number) {}
  static [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as { [PY_FLOAT]?: unknown })[PY_FLOAT] === true
  }
}
Object.defineProperty(PyFloat.prototype, PY_FLOAT, { value: true })

/** Any JSON-ish value a dict field may hold (builder_options, builder_config). */
export type PyValue =
  string | number | bigint | boolean | null | PyFloat | PyValue[] | { [k: string]: PyValue }

/** An `env` value: flytekit accepts any scalar and writes Python's `str()` of it (`False`, `1`, `1.5`, `None`). */
export type EnvValue = string | number | bigint | boolean | null | PyFloat

export interface ImageSpec {
  name: string
  python_version: string | number | bigint | PyFloat | null
  builder: string | null
  source_root: string | null
  env: Record<string, EnvValue> | null
  registry: string | null
  packages: string[] | null
  conda_packages: string[] | null
  conda_channels: string[] | null
  requirements: string | null
  apt_packages: string[] | null
  cuda: string | null
  cudnn: string | null
  base_image: string | ImageSpec | null
  platform: string
  pip_index: string | null
  pip_extra_index_url: string[] | null
  pip_secret_mounts: [string, string][] | null
  pip_extra_args: string | null
  registry_config: string | null
  entrypoint: string[] | null
  commands: string[] | null
  tag_format: string | null
  source_copy_mode: CopyMode | null
  copy: string[] | null
  python_exec: string | null
  runtime_packages: string[] | null
  builder_options: Record<string, PyValue> | null
  builder_config: Record<string, PyValue> | null
}

/** Field names in flytekit's declaration order. */
export const IMAGE_SPEC_FIELDS = [
  'name',
  'python_version',
  'builder',
  'source_root',
  'env',
  'registry',
  'packages',
  'conda_packages',
  'conda_channels',
  'requirements',
  'apt_packages',
  'cuda',
  'cudnn',
  'base_image',
  'platform',
  'pip_index',
  'pip_extra_index_url',
  'pip_secret_mounts',
  'pip_extra_args',
  'registry_config',
  'entrypoint',
  'commands',
  'tag_format',
  'source_copy_mode',
  'copy',
  'python_exec',
  'runtime_packages',
  'builder_options',
  'builder_config',
] as const satisfies readonly (keyof ImageSpec)[]

/**
 * A spec together with where it came from. Relative paths in the spec (requirements, source_root, copy)
 * resolve against `cwd`: the working directory the spec was loaded from (flytekit's rule), whatever the file's folder.
 */
export interface LoadedSpec {
  spec: ImageSpec
  /** Absolute directory that relative paths in `spec` resolve against (the working directory). */
  cwd: string
  /** The file the spec was read from, or `-` for standard input; undefined for specs built in code. */
  source?: string
  /** flytekit's non-field flags, read from FLYTE_FORCE_PUSH_IMAGE_SPEC / FLYTE_IMG_FAST_FAIL. */
  forcePush: boolean
  fastFail: boolean
}
