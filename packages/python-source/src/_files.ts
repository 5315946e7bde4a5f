// The Python files of the paths given: a .py file itself, every .py under a folder (honouring .gitignore files).
import { existsSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs'
import path from 'node:path'
import ignore, { type Ignore } from 'ignore'
import { ImagespecError } from '@imagespec/spec'

/** At most this many Python files in one scan. */
export const MAX_FILES = 20_000

interface Rules {
  /** Directory the .gitignore sits in (absolute). */
  base: string
  ig: Ignore
}

function readRules(dir: string): Rules | undefined {
  const file = path.join(dir, '.gitignore')
  try {
    return { base: dir, ig: ignore().add(readFileSync(file, 'utf8')) }
  } catch {
    return undefined
  }
}

function ignored(rules: readonly Rules[], abs: string, isDir: boolean): boolean {
  // Later (deeper) files decide over earlier ones, negations included: test from the deepest up.
  for (let i = rules.length - 1; i >= 0; i--) {
    const rel = path.relative(rules[i].base, abs).split(path.sep).join('/')
    if (!rel || rel.startsWith('..')) continue
    const r = rules[i].ig.test(isDir ? `${rel}/` : rel)
    if (r.ignored) return true
    if (r.unignored) return false
  }
  return false
}

/** The .gitignore rules of `dir`'s ancestors up to the repository root (the first with a .git), outermost first. */
function ancestorRules(dir: string): Rules[] {
  const chain: string[] = []
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    chain.unshift(d)
    if (existsSync(path.join(d, '.git'))) break
    if (path.dirname(d) === d) return [] // not in a repository: only the folder's own .gitignore files count
  }
  return chain.map(readRules).filter((r): r is Rules => r !== undefined)
}

/**
 * The Python files for `paths` (relative to `cwd`): a file as given, a folder's `*.py` files in code-point order,
 * leaving out what a .gitignore in it or in its ancestors up to the repository root ignores (and `.git`). Each file is
 * named as the argument given joined with its relative path. Throws `E_SPEC_NOT_FOUND` for a missing path.
 */
export function pythonFiles(
  paths: readonly string[],
  cwd: string,
): { file: string; abs: string }[] {
  const out: { file: string; abs: string }[] = []
  for (const given of paths) {
    const abs = path.resolve(cwd, given)
    let st
    try {
      st = statSync(abs)
    } catch (cause) {
      throw new ImagespecError('E_SPEC_NOT_FOUND', `"${given}" not found`, { cause, field: given })
    }
    if (!st.isDirectory()) {
      out.push({ file: given, abs })
      continue
    }
    const walk = (dir: string, shown: string, rules: Rules[]) => {
      const own = readRules(dir)
      const here = own ? [...rules, own] : rules
      let entries: Dirent[]
      try {
        entries = readdirSync(dir, { withFileTypes: true })
      } catch (cause) {
        throw new ImagespecError('E_SPEC_NOT_FOUND', `Cannot read the folder "${shown}"`, {
          cause,
          field: shown,
        })
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      for (const e of entries) {
        const child = path.join(dir, e.name)
        const childShown = shown === '.' ? e.name : `${shown.replace(/\/+$/, '')}/${e.name}`
        if (e.isDirectory()) {
          if (e.name === '.git' || ignored(here, child, true)) continue
          walk(child, childShown, here)
        } else if (
          (e.isFile() || e.isSymbolicLink()) &&
          e.name.endsWith('.py') &&
          !ignored(here, child, false)
        ) {
          if (e.isSymbolicLink() && !statSync(child, { throwIfNoEntry: false })?.isFile()) continue
          out.push({ file: childShown, abs: child })
          if (out.length > MAX_FILES)
            throw new ImagespecError(
              'E_USAGE',
              `More than ${MAX_FILES} Python files under "${given}"`,
              {
                hint: 'Name a smaller folder, or list the files that hold the ImageSpecs',
              },
            )
        }
      }
    }
    walk(abs, given, ancestorRules(abs))
  }
  return out
}
