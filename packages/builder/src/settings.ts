import { ImagespecError, str2bool, type CacheExport, type CacheImport } from '@imagespec/spec'
import type { ContextSettings } from './context.js'

type Env = Readonly<Record<string, string | undefined>>

/** Command-line flags that override the environment. `undefined` means "not given". */
export interface SettingsFlags {
  push?: boolean
  force?: boolean
  builder?: string
  platform?: string
  network?: string
  flytekitVersion?: string
  defaultPythonVersion?: string
  labels?: Record<string, string>
  /** `--cache-from` values (buildx's syntax), each `type=registry,ref=R` or a bare reference. */
  cacheFrom?: string[]
  /** `--cache-to` values: `type=inline` or `type=registry,ref=R[,mode=max]`. */
  cacheTo?: string[]
  /** Fleet file (`--engines`), else IMAGESPEC_ENGINES. */
  engines?: string
}

export type { CacheImport, CacheExport }

/** Every knob of a build, resolved from env and flags in one place. */
export interface BuildSettings {
  /** flytekit's FLYTE_PUSH_IMAGE_SPEC: push only when it is `true`/`1` (default), or `--push`/`--no-push`. */
  push: boolean
  /** FLYTE_FORCE_PUSH_IMAGE_SPEC (str2bool) or `--force`: rebuild and push although the image exists. */
  force: boolean
  /** FLYTE_IMG_FAST_FAIL (str2bool): fail instead of assuming the image exists when existence is unknown. */
  fastFail: boolean
  /** Builder name that overrides the spec's `builder` field (`--builder`). */
  builder?: string
  /** Platform that overrides the spec's `platform` (it is hashed: the tag changes with it). */
  platform?: string
  /** Build network mode: `host` from IMAGESPEC_BUILD_NETWORK or `--network`. */
  network?: string
  /** Labels put on the built image. */
  labels: Record<string, string>
  /** Build caches to import (`--cache-from`, else IMAGESPEC_CACHE_FROM). */
  cacheFrom: CacheImport[]
  /** Build caches to export (`--cache-to`, else IMAGESPEC_CACHE_TO). */
  cacheTo: CacheExport[]
  /** The fleet file (YAML/JSON) naming the engines to build on: `--engines`, else IMAGESPEC_ENGINES; else DOCKER_HOST. */
  engines?: string
  /**
   * Dockerfile and installer settings given by flags (flytekit version, default python, ...). They are not resolved
   * here: when a context is made, `resolveContextSettings(env, render)` reads the build's environment
   * (`IMAGESPEC_*`) under them, so that paths which build nothing never load the renderer and the installers.
   */
  render: Partial<ContextSettings>
}

export function resolveSettings(env: Env, flags: SettingsFlags = {}): BuildSettings {
  const network = flags.network ?? (env.IMAGESPEC_BUILD_NETWORK || undefined)
  if (network !== undefined && !/^[a-z0-9][a-z0-9_.-]*$/i.test(network))
    throw new ImagespecError('E_USAGE', `Invalid network mode "${network}"`, {
      hint: 'Use --network host',
    })
  return {
    push: flags.push ?? ['true', '1'].includes((env.FLYTE_PUSH_IMAGE_SPEC ?? 'True').toLowerCase()),
    force: flags.force ?? str2bool(env.FLYTE_FORCE_PUSH_IMAGE_SPEC),
    fastFail: str2bool(env.FLYTE_IMG_FAST_FAIL),
    builder: flags.builder,
    platform: flags.platform,
    network,
    labels: { ...flags.labels },
    cacheFrom: flags.cacheFrom
      ? flags.cacheFrom.map((t) => parseCacheFrom(t))
      : envList(env.IMAGESPEC_CACHE_FROM).map((t) => parseCacheFrom(t, 'IMAGESPEC_CACHE_FROM')),
    cacheTo: flags.cacheTo
      ? flags.cacheTo.map((t) => parseCacheTo(t))
      : envList(env.IMAGESPEC_CACHE_TO).map((t) => parseCacheTo(t, 'IMAGESPEC_CACHE_TO')),
    engines: flags.engines || env.IMAGESPEC_ENGINES || undefined,
    render: {
      ...(flags.flytekitVersion !== undefined && { flytekitVersion: flags.flytekitVersion }),
      ...(flags.defaultPythonVersion !== undefined && {
        defaultPythonVersion: flags.defaultPythonVersion,
      }),
    },
  }
}

/** IMAGESPEC_CACHE_FROM / IMAGESPEC_CACHE_TO hold one or more entries separated by whitespace or `;`. */
function envList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s;]+/).filter(Boolean)
}

/** Splits buildx's `key=value,key=value` cache syntax; a value without `=` is a bare reference. */
function cacheAttrs(text: string, flag: string, source: string): Record<string, string> {
  const attrs: Record<string, string> = {}
  for (const part of text.split(',')) {
    const i = part.indexOf('=')
    if (i <= 0) {
      if (!text.includes('=')) return { type: 'registry', ref: text }
      throw cacheError(flag, text, `"${part}" is not key=value`, source)
    }
    attrs[part.slice(0, i).trim()] = part.slice(i + 1).trim()
  }
  return attrs
}

/** A bad cache value, named by where it came from (`source`: the flag, or the environment variable). */
function cacheError(flag: string, text: string, why: string, source = flag): ImagespecError {
  return new ImagespecError('E_USAGE', `Invalid ${source} "${text}": ${why}`, {
    hint: `Use ${flag} type=registry,ref=<image>${flag === '--cache-to' ? ' or --cache-to type=inline' : ''}`,
  })
}

/** Parses one `--cache-from` value: `type=registry,ref=R`, or `R` alone. `source` names it in errors. */
export function parseCacheFrom(text: string, source = '--cache-from'): CacheImport {
  const fail = (why: string) => cacheError('--cache-from', text, why, source)
  const { type = 'registry', ref, ...rest } = cacheAttrs(text.trim(), '--cache-from', source)
  if (type !== 'registry') throw fail(`type "${type}" is not supported (only registry)`)
  if (!ref) throw fail('ref= is missing')
  const extra = Object.keys(rest)
  if (extra.length) throw fail(`unknown key "${extra[0]}"`)
  return { type, ref }
}

/** Parses one `--cache-to` value: `type=inline`, or `type=registry,ref=R[,mode=min|max]`. `source` names it in errors. */
export function parseCacheTo(text: string, source = '--cache-to'): CacheExport {
  const fail = (why: string) => cacheError('--cache-to', text, why, source)
  const { type = 'registry', ref, mode, ...rest } = cacheAttrs(text.trim(), '--cache-to', source)
  const extra = Object.keys(rest)
  if (extra.length) throw fail(`unknown key "${extra[0]}"`)
  if (type === 'inline') {
    if (ref !== undefined || mode !== undefined) throw fail('type=inline takes no ref or mode')
    return { type }
  }
  if (type !== 'registry') throw fail(`type "${type}" is not supported (inline or registry)`)
  if (!ref) throw fail('ref= is missing')
  if (mode !== undefined && mode !== 'min' && mode !== 'max') throw fail('mode must be min or max')
  return mode ? { type, ref, mode } : { type, ref }
}
