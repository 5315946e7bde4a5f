import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const VECTORS_BASE = '/tmp/imagespec-vectors'

export interface VectorFixture {
  case_id: string
  files_created_in_cwd: Record<string, string>
  git_init_in: string[]
}

/** The repository's byte copy of the shared flytekit vectors file. */
export function loadVectors(): {
  meta: Record<string, unknown>
  template_skeletons: Record<string, string>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the vectors file's free-form fields
  vectors: Array<VectorFixture & Record<string, any>>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the vectors file's free-form fields
  exist_vectors: Array<Record<string, any>>
} {
  const file = resolve(
    dirname(fileURLToPath(import.meta.url)),
    '../../fixtures/flytekit-vectors.json',
  )
  return JSON.parse(readFileSync(file, 'utf8'))
}

/**
 * Recreates a vector's fixture directory at its recorded absolute path (/tmp/imagespec-vectors/<case_id>): files,
 * then `git init` where recorded. Safe when several test processes ask for the same fixture at once: the tree is
 * built in a scratch directory and renamed into place, and a content stamp (kept outside the fixture) tells whether
 * an existing directory is already complete.
 */
export function materializeVector(v: VectorFixture): string {
  const dir = join(VECTORS_BASE, v.case_id)
  const stampDir = join(VECTORS_BASE, '.stamps')
  mkdirSync(stampDir, { recursive: true })
  const stamp = join(stampDir, v.case_id)
  const want = createHash('sha256')
    .update(JSON.stringify([v.files_created_in_cwd, v.git_init_in]))
    .digest('hex')
  if (existsSync(dir) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return dir
  const scratch = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
  mkdirSync(scratch, { recursive: true })
  for (const [rel, content] of Object.entries(v.files_created_in_cwd)) {
    const p = join(scratch, rel)
    mkdirSync(dirname(p), { recursive: true })
    writeFileSync(p, content)
  }
  for (const g of v.git_init_in) {
    mkdirSync(join(scratch, g), { recursive: true })
    execFileSync('git', ['init', '-q'], { cwd: join(scratch, g), stdio: 'ignore' })
  }
  // Replace whatever is there; if another process won the race with the same content, keep theirs.
  const old = `${dir}.old-${process.pid}-${Math.random().toString(36).slice(2)}`
  try {
    if (existsSync(dir)) renameSync(dir, old)
  } catch {
    /* another process moved it first */
  }
  try {
    renameSync(scratch, dir)
    writeFileSync(stamp, want)
  } catch {
    rmSync(scratch, { recursive: true, force: true })
  }
  rmSync(old, { recursive: true, force: true })
  return dir
}

/** A vector's `input` in our terms: the JSON convention `{"__imagespec__": {...}}` (a nested spec) becomes the spec. */
export function vectorInput(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(vectorInput)
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>
    if ('__imagespec__' in o) return vectorInput(o.__imagespec__)
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, vectorInput(v)]))
  }
  return value
}
