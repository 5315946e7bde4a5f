// `imagespec explain`: the tag's pre-image as readable fields and file lists, a compact label recording it in the
// built image, and which fields and files differ between two explanations.
import fs from 'node:fs'
import path from 'node:path'
import { createHash } from './_crypto.js'
import { lsFiles } from './digest.js'
import { describeIdentity, type IdentityOptions } from './identity.js'
import type { LoadedSpec } from './types.js'
import { installProjectOption, specUvLock, uvProjectFiles } from './uv-project.js'

/** The image label that records an explanation at build time (see `explainLabel`). */
export const EXPLAIN_LABEL = 'org.imagespec.explain'
/** Labels larger than this keep the field hashes and the digests but drop the per-file list. */
export const EXPLAIN_LABEL_MAX = 32 * 1024

export interface ExplainedFiles {
  /** The digest that stands in the pre-image (md5 for source_root and copy, sha1 for requirements). */
  digest: string
  /** The hashed files as paths relative to the spec's directory, each with the md5 of its bytes. */
  files: { path: string; md5: string }[]
}

/** A spec's tag, explained: the fields of the pre-image (Python reprs) and the files behind its digests. */
export interface Explanation {
  tag: string
  imageName: string
  id: string
  /** flytekit's hashed fields in order, as Python reprs; source_root, copy and requirements show their digests. */
  fields: Record<string, string>
  sources: Partial<Record<'source_root' | 'copy' | 'requirements', ExplainedFiles>>
}

/** What two explanations are compared on: a field -> value-hash map and a path -> md5 map. */
export interface ExplanationDigest {
  tag: string
  fields: Record<string, string>
  /** Undefined when the file list was too large for a label. */
  files?: Record<string, string>
}

const md5File = (file: string) => createHash('md5').update(fs.readFileSync(file)).digest('hex')
const short = (s: string) => createHash('md5').update(s, 'utf8').digest('hex').slice(0, 16)
const rel = (cwd: string, abs: string) => path.relative(cwd, abs).split(path.sep).join('/')

function walk(abs: string, out: string[]): void {
  let st: fs.Stats
  try {
    st = fs.statSync(abs)
  } catch {
    return
  }
  if (st.isFile()) out.push(abs)
  else if (st.isDirectory())
    for (const name of fs.readdirSync(abs).sort()) walk(path.join(abs, name), out)
}

/** Explains a spec's tag: its hashed fields and the files behind the source_root, copy and requirements digests. */
export async function explainSpec(
  loaded: LoadedSpec,
  opts: IdentityOptions = {},
): Promise<Explanation> {
  const d = await describeIdentity(loaded, opts)
  const { spec, cwd } = loaded
  const sources: Explanation['sources'] = {}
  const digestOf = (purpose: string) =>
    d.hashCalls.find((c) => c.purpose === purpose)?.resultHex ?? ''
  if (spec.source_root && spec.source_copy_mode && spec.source_copy_mode !== 'NO_COPY') {
    const root = path.resolve(cwd, spec.source_root)
    const relative = !path.isAbsolute(spec.source_root)
    const { files } = await lsFiles(root, spec.source_copy_mode, {
      loadedModules: opts.loadedModules,
      relativeRootQuirk: relative ? spec.source_root : undefined,
      flytekit: { rootAsWritten: spec.source_root },
    })
    sources.source_root = {
      digest: digestOf('source_root'),
      files: files.map((f) => ({
        path: rel(cwd, path.join(root, f)),
        md5: md5File(path.join(root, f)),
      })),
    }
  }
  if (spec.copy && spec.copy.length > 0) {
    const abs: string[] = []
    for (const entry of spec.copy) walk(path.resolve(cwd, entry), abs)
    sources.copy = {
      digest: digestOf('copy'),
      files: abs.map((f) => ({ path: rel(cwd, f), md5: md5File(f) })),
    }
  }
  if (spec.requirements) {
    const file = path.resolve(cwd, spec.requirements)
    // A uv workspace's digest covers the members' and the root's files too (uvWorkspaceDigest).
    const uv = await specUvLock(spec, cwd)
    const hashed =
      uv && uv.lock.members.length > 0
        ? (await uvProjectFiles(uv.lock, installProjectOption(spec))).map((f) =>
            path.join(uv.lock.root, f),
          )
        : [file]
    sources.requirements = {
      digest: digestOf('requirements'),
      files: hashed.map((f) => ({ path: rel(cwd, f), md5: md5File(f) })),
    }
  }
  return { tag: d.tag, imageName: d.imageName, id: d.id, fields: d.tagFields, sources }
}

/** The comparable form of an explanation: field values hashed (no values leave the machine), files by md5. */
export function explanationDigest(e: Explanation): ExplanationDigest {
  const files: Record<string, string> = {}
  for (const group of Object.values(e.sources)) for (const f of group.files) files[f.path] = f.md5
  return {
    tag: e.tag,
    fields: Object.fromEntries(Object.entries(e.fields).map(([k, v]) => [k, short(v)])),
    files,
  }
}

/**
 * The label value recorded in a built image: the tag, a hash per field (never the values: no secrets, bounded size)
 * and the md5 per hashed file, unless that makes the label larger than `EXPLAIN_LABEL_MAX`.
 */
export function explainLabel(e: Explanation): string {
  const digest = explanationDigest(e)
  const full = JSON.stringify({ v: 1, ...digest })
  return full.length <= EXPLAIN_LABEL_MAX
    ? full
    : JSON.stringify({ v: 1, tag: digest.tag, fields: digest.fields })
}

/** Reads an `org.imagespec.explain` label; undefined when it is missing or not one of ours. */
export function parseExplainLabel(text: string | undefined): ExplanationDigest | undefined {
  if (!text) return undefined
  try {
    const v = JSON.parse(text) as { v?: unknown; tag?: unknown; fields?: unknown; files?: unknown }
    if (v.v !== 1 || typeof v.tag !== 'string' || typeof v.fields !== 'object' || v.fields === null)
      return undefined
    return {
      tag: v.tag,
      fields: v.fields as Record<string, string>,
      files:
        typeof v.files === 'object' && v.files !== null
          ? (v.files as Record<string, string>)
          : undefined,
    }
  } catch {
    return undefined
  }
}

/**
 * What changed the tag from `b` to `a`: field names whose values differ (in flytekit's field order), then the paths of
 * files added, removed or modified (sorted). Files are compared only when both sides list them.
 */
export function diffExplanations(a: ExplanationDigest, b: ExplanationDigest): string[] {
  const fields = [...new Set([...Object.keys(a.fields), ...Object.keys(b.fields)])].filter(
    (k) => a.fields[k] !== b.fields[k],
  )
  if (!a.files || !b.files) return fields
  const fa = a.files
  const fb = b.files
  const files = [...new Set([...Object.keys(fa), ...Object.keys(fb)])]
    .filter((p) => fa[p] !== fb[p])
    .sort()
  return [...fields, ...files]
}
