// Plain data shared by @imagespec/installers (produces it), @imagespec/dockerfile (renders and packs it) and
// @imagespec/builder (orchestrates flytekit's create_docker_context). No behaviour lives here.

/** A `--mount=` option of a RUN step. Cache mounts are dropped by engines without the `cacheMounts` capability. */
export type RunMount =
  | { type: 'cache'; target: string; id: string }
  | {
      type: 'bind'
      target: string
      src: string
      /** Writable for the step (writes are discarded). */ rw?: boolean
    }
  | { type: 'from'; from: string; source: string; target: string }

/** A build secret: `--secret id=<id>,src=<src>` for the engine, `--mount=type=secret,id=<id>,target=<target>` in RUN. */
export interface SecretMount {
  /** flytekit's positional id: `secret_0`, `secret_1`, ... */
  id: string
  src: string
  target: string
}

/**
 * One Dockerfile step. `run` renders as `RUN <mounts> <secrets> <command>`, and `instruction` as `<keyword> <args>`,
 * with the parts joined by flytekit's continuation (a run of five spaces, the joined form of `\` + newline).
 * `secrets` present (even empty) reserves flytekit's secret slot, which an empty list leaves as an extra run of spaces.
 */
export type DockerfileStep =
  | { kind: 'run'; mounts: RunMount[]; secrets?: SecretMount[]; command: string[] }
  | { kind: 'instruction'; keyword: 'ENV' | 'WORKDIR' | 'USER' | 'SHELL'; args: string[] }
  | { kind: 'comment'; text: string }
  | { kind: 'blank' }

/** A helper build stage, e.g. `FROM ghcr.io/astral-sh/uv:0.5.1 as uv`. */
export interface HelperStage {
  image: string
  alias: string
}

/** A file placed in the build context: `source` or `content`, or `directory` for an empty directory. */
export interface ContextFile {
  /** Destination: a relative POSIX path inside the context. */
  path: string
  /** Absolute path of the file to copy (content and mode bits). */
  source?: string
  /** Inline UTF-8 content. */
  content?: string
  /** An (empty) directory entry, e.g. flytekit's `src/` when no source file matched. */
  directory?: boolean
  /** File mode bits; defaults to the source's mode, or 0o644 for inline content. */
  mode?: number
  /** The error message to raise when `source` does not exist (flytekit's text where it is pinned). */
  missingMessage?: string
}

/** What a package installer contributes (flytekit's prepare_python_install). */
export interface PackagePlan {
  /** Strategy name, e.g. `uv-pip`, `uv-lock`, `poetry-lock`, `pip`. */
  installer: string
  /** Helper stages this plan's steps mount from. */
  stages: HelperStage[]
  /** Context files, in the order flytekit writes them. */
  files: ContextFile[]
  /** Steps of the package-install slot. */
  steps: DockerfileStep[]
  /** Mounts that make the installer's tools available to the user's `commands` RUN (empty: a plain RUN). */
  commandMounts: RunMount[]
  secrets: SecretMount[]
}

/** What a Python provider contributes (flytekit's prepare_python_executable). */
export interface PythonPlan {
  /** Strategy name, e.g. `micromamba`, `python-exec`, `system-python`. */
  provider: string
  stages: HelperStage[]
  /** A stage alias to copy `/etc/ssl/certs/ca-certificates.crt` from when the base image has none. */
  caCertificatesFrom?: string
  /** Steps of the python-provisioning slot. */
  steps: DockerfileStep[]
  /** Prepended to PATH (`ENV PATH="<pathPrefix>:$PATH"`). */
  pathPrefix: string
  /** The interpreter the image runs (`UV_PYTHON`). */
  python: string
  /** The base image this provider needs when the spec names none and the default would not do (it has no Python). */
  defaultBaseImage?: string
}

/** A full install plan: the provider and the package installer, as the renderer consumes them. */
export interface InstallPlan {
  python: PythonPlan
  packages: PackagePlan
}

/** Everything a build needs: the Dockerfile text and the files of the context. */
export interface BuildContextPlan {
  dockerfile: string
  /** Context files other than the Dockerfile, in flytekit's order of creation. */
  files: ContextFile[]
  warnings: string[]
  /** Build secrets for the engine (`--secret id=<id>,src=<src>`), in `pip_secret_mounts` order. */
  secrets: { id: string; src: string }[]
}
