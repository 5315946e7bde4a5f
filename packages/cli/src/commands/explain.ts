import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  diffExplanations,
  EXPLAIN_LABEL,
  explainSpec,
  explanationDigest,
  ImagespecError,
  parseExplainLabel,
  type Explanation,
  type ExplanationDigest,
} from '@imagespec/spec'
import { pc } from '../_colors.js'
import { load } from '../_common.js'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'

export interface ExplainFlags {
  against?: string
  json?: boolean
}

const looksLikeSpec = (io: Io, arg: string) =>
  arg === '-' || /\.(ya?ml|json)$/i.test(arg) || existsSync(resolve(io.cwd, arg))

/** The other side: a spec file (explained here) or an image built by imagespec (its explain label). */
async function against(io: Io, arg: string): Promise<ExplanationDigest> {
  if (looksLikeSpec(io, arg)) return explanationDigest(await explainSpec(await load(io, arg)))
  const { imageLabels } = await import('@imagespec/builder')
  let found: Awaited<ReturnType<typeof imageLabels>>
  try {
    found = await imageLabels(arg)
  } catch (e) {
    throw new ImagespecError(
      'E_USAGE',
      `Image "${arg}" is not in the local engine and its registry did not answer: ${(e as Error).message}`,
      {
        hint: 'Give a spec file, or an image the local engine or its registry holds',
      },
    )
  }
  if (!found) {
    throw new ImagespecError(
      'E_USAGE',
      `Image "${arg}" is neither a spec file nor an image in the local engine or its registry`,
      {
        hint: 'Give a spec file, or an image built by imagespec',
      },
    )
  }
  const { labels } = found
  const recorded = parseExplainLabel(labels[EXPLAIN_LABEL])
  if (!recorded) {
    throw new ImagespecError('E_USAGE', `Image "${arg}" has no ${EXPLAIN_LABEL} label`, {
      hint: 'Only images built by imagespec record what their tag was made of',
    })
  }
  return recorded
}

function human(e: Explanation): string[] {
  const out = [
    `${pc.bold('Image:')} ${e.imageName}`,
    `${pc.bold('Tag:')} ${e.tag}  (id ${e.id})`,
    pc.bold('Hashed fields:'),
  ]
  const width = Math.max(...Object.keys(e.fields).map((k) => k.length))
  for (const [k, v] of Object.entries(e.fields)) out.push(`  ${k.padEnd(width)}  ${v}`)
  for (const [field, group] of Object.entries(e.sources)) {
    out.push(
      pc.bold(`${field} digest ${group.digest}:`) +
        ` ${group.files.length} file${group.files.length === 1 ? '' : 's'}`,
    )
    for (const f of group.files) out.push(`  ${f.md5}  ${f.path}`)
  }
  return out
}

/**
 * `imagespec explain SPEC [--against SPEC|IMAGE] [--json]`: the tag's pre-image as readable fields and files and,
 * against another spec or an image built by imagespec, which fields and files changed the tag.
 */
export async function explainCommand(
  io: Io,
  _g: GlobalOptions,
  file: string,
  flags: ExplainFlags,
): Promise<number> {
  const e = await explainSpec(await load(io, file))
  const other = flags.against === undefined ? undefined : await against(io, flags.against)
  const changed = other ? diffExplanations(explanationDigest(e), other) : []
  if (flags.json) {
    const body = {
      tag: e.tag,
      against_tag: other?.tag ?? null,
      changed,
      image_name: e.imageName,
      fields: e.fields,
      sources: e.sources,
    }
    io.stdout.write(JSON.stringify(body) + '\n')
    return 0
  }
  const out = human(e)
  if (other) {
    out.push(`${pc.bold('Against:')} tag ${other.tag}`)
    if (other.tag === e.tag) out.push('  same tag: nothing that is hashed changed')
    else if (changed.length === 0)
      out.push(
        '  the tags differ, but no recorded field or file did (host facts such as loaded modules?)',
      )
    else for (const c of changed) out.push(`  changed: ${c}`)
    if (!other.files && other.tag !== e.tag)
      out.push(pc.dim('  (the image recorded no per-file list: too many files for its label)'))
  }
  io.stdout.write(out.join('\n') + '\n')
  return 0
}
