// flytekit's ImageSpec.id, .tag and image_name(), byte for byte.
import { createHash } from './_crypto.js'
import path from 'node:path'
import { PyFormatError, pyFormat } from './_pyformat.js'
import { PyEnum, pyRepr, pyStr } from './pyrepr.js'
import type { PyReprValue } from './pyrepr.js'
import { copyDigest, lsFiles, requirementsDigest, type SourceWalks } from './digest.js'
import { ImagespecError } from './errors.js'
import { installProjectOption, specUvLock, uvWorkspaceDigest } from './uv-project.js'
import { IMAGE_SPEC_FIELDS } from './types.js'
import type { CopyMode, ImageSpec, LoadedSpec } from './types.js'

const COPY_MODE_VALUES: Record<CopyMode, number> = { LOADED_MODULES: 1, ALL: 2, NO_COPY: 3 }
const EXCLUDED = new Set(['pip_secret_mounts', 'builder', 'runtime_packages'])

/** Host and engine facts the tag depends on. */
export interface IdentityOptions {
  /** Absolute file paths standing in for Python's `sys.modules` (LOADED_MODULES copy mode). Default: none. */
  loadedModules?: readonly string[]
  /** The engine's real-name map (`ImageBuildEngine._IMAGE_NAME_TO_REAL_NAME`). Default: identity. */
  resolveImageName?: (name: string) => string
  /** Walks of `source_root` to share with the context of the same command (`createSourceWalks()`). */
  sourceWalks?: SourceWalks
}

/** One hash computed on the way to the tag, in flytekit's order. */
export interface HashCall {
  algo: 'md5' | 'sha1'
  purpose: 'source_root' | 'copy' | 'requirements' | 'spec'
  resultHex: string
}

/** Everything about a spec's identity, for `--json` output and tests. */
export interface IdentityDescription {
  id: string
  tag: string
  imageName: string
  idPreimage: string
  tagPreimage: string
  hashCalls: HashCall[]
  /** The hashed fields as Python reprs, digests substituted (what `tagPreimage` is made of), in flytekit's order. */
  tagFields: Record<string, string>
}

/** `dataclasses.asdict` with flytekit's filter: None values and the excluded fields dropped, recursively. */
function hashDict(spec: ImageSpec): Record<string, PyReprValue> {
  const out: Record<string, PyReprValue> = {}
  for (const key of IMAGE_SPEC_FIELDS) {
    const value = spec[key]
    if (value === null || EXCLUDED.has(key)) continue
    if (key === 'source_copy_mode')
      out[key] = new PyEnum(
        'CopyFileDetection',
        value as CopyMode,
        COPY_MODE_VALUES[value as CopyMode],
      )
    else if (key === 'base_image' && typeof value === 'object')
      out[key] = hashDict(value as ImageSpec)
    else out[key] = value as PyReprValue
  }
  return out
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest()

/** The exact string flytekit md5-hashes for `id`: Python `str()` of the filtered field dict. */
export function idPreimage(spec: ImageSpec): string {
  return pyStr(hashDict(spec))
}

/** flytekit's `ImageSpec.id`: md5 of the pre-image, URL-safe base64 without padding (22 characters). */
export function computeId(spec: ImageSpec): string {
  return md5(idPreimage(spec)).toString('base64url')
}

interface TagResult {
  tag: string
  preimage: string
  dict: Record<string, PyReprValue>
}

async function tagOf(
  spec: ImageSpec,
  cwd: string,
  opts: IdentityOptions,
  calls: HashCall[],
): Promise<TagResult> {
  const baseName =
    spec.base_image !== null && typeof spec.base_image === 'object'
      ? await imageNameOf(spec.base_image, cwd, opts, calls)
      : spec.base_image
  const dict = hashDict({ ...spec, base_image: baseName, registry_config: null })
  if (spec.source_copy_mode !== null && spec.source_copy_mode !== 'NO_COPY') {
    if (!spec.source_root)
      throw new ImagespecError(
        'E_SPEC_INVALID',
        `Field source_root for image spec ${spec.name} must be set when copy is set`,
        { field: 'source_root' },
      )
    const relative = !path.isAbsolute(spec.source_root)
    const root = path.resolve(cwd, spec.source_root)
    // flytekit never matches a module against a relative source_root (os.path.commonpath of an absolute and a
    // relative path); modules named explicitly (--module) are matched against the resolved root (docs/compat.md).
    const named =
      spec.source_copy_mode === 'LOADED_MODULES' && (opts.loadedModules?.length ?? 0) > 0
    const { digest } = await lsFiles(root, spec.source_copy_mode, {
      loadedModules: opts.loadedModules,
      relativeRootQuirk: relative ? spec.source_root : undefined,
      flytekit: { rootAsWritten: named ? root : spec.source_root },
      sourceWalks: opts.sourceWalks,
    })
    calls.push({ algo: 'md5', purpose: 'source_root', resultHex: digest })
    dict.source_root = digest
  }
  if (spec.copy && spec.copy.length > 0) {
    const digest = await copyDigest(spec.copy, cwd)
    calls.push({ algo: 'md5', purpose: 'copy', resultHex: digest })
    dict.copy = digest
  }
  if (spec.requirements) {
    // A uv workspace (flytekit cannot build one): the members' and the root's files join the lock's digest.
    const uv = await specUvLock(spec, cwd)
    const digest =
      uv && uv.lock.members.length > 0
        ? await uvWorkspaceDigest(uv.file, uv.lock, installProjectOption(spec))
        : requirementsDigest(path.resolve(cwd, spec.requirements))
    calls.push({ algo: 'sha1', purpose: 'requirements', resultHex: digest })
    dict.requirements = digest
  }
  const preimage = pyStr(dict)
  const hash = md5(preimage)
  calls.push({ algo: 'md5', purpose: 'spec', resultHex: hash.toString('hex') })
  const tag = hash.toString('base64url').replaceAll('-', '_')
  if (!spec.tag_format) return { tag, preimage, dict }
  try {
    return { tag: pyFormat(spec.tag_format, { spec_hash: tag }), preimage, dict }
  } catch (e) {
    if (!(e instanceof PyFormatError)) throw e
    throw new ImagespecError(
      'E_SPEC_INVALID',
      `Invalid tag_format "${spec.tag_format}": ${e.message}`,
      {
        field: 'tag_format',
        cause: e,
        hint: 'tag_format is a Python format string whose only field is {spec_hash}, e.g. "{spec_hash}-dev"',
      },
    )
  }
}

async function imageNameOf(
  spec: ImageSpec,
  cwd: string,
  opts: IdentityOptions,
  calls: HashCall[],
): Promise<string> {
  const { tag } = await tagOf(spec, cwd, opts, calls)
  const name = `${spec.registry ? `${spec.registry}/` : ''}${spec.name}:${tag}`
  return opts.resolveImageName ? opts.resolveImageName(name) : name
}

/** flytekit's `ImageSpec.tag`: digests substituted for requirements/source_root/copy, `-` -> `_`, then tag_format. */
export async function computeTag(loaded: LoadedSpec, opts: IdentityOptions = {}): Promise<string> {
  return (await tagOf(loaded.spec, loaded.cwd, opts, [])).tag
}

/** flytekit's `image_name()`: `[registry/]name:tag`, through the engine's real-name map. */
export function imageName(loaded: LoadedSpec, opts: IdentityOptions = {}): Promise<string> {
  return imageNameOf(loaded.spec, loaded.cwd, opts, [])
}

/** id, tag and image name together with their pre-images and the hashes computed on the way. */
export async function describeIdentity(
  loaded: LoadedSpec,
  opts: IdentityOptions = {},
): Promise<IdentityDescription> {
  const hashCalls: HashCall[] = []
  const { tag, preimage, dict } = await tagOf(loaded.spec, loaded.cwd, opts, hashCalls)
  const name = `${loaded.spec.registry ? `${loaded.spec.registry}/` : ''}${loaded.spec.name}:${tag}`
  return {
    id: computeId(loaded.spec),
    tag,
    imageName: opts.resolveImageName ? opts.resolveImageName(name) : name,
    idPreimage: idPreimage(loaded.spec),
    tagPreimage: preimage,
    hashCalls,
    tagFields: Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, pyRepr(v)])),
  }
}
