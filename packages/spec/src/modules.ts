// A stand-in for Python's `sys.modules` (flytekit's LOADED_MODULES copy mode): the files a Python process would
// have imported from source_root after importing the named entry modules, found by reading their import statements.
import { existsSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { ImagespecError } from './errors.js'

const isFile = (p: string) => existsSync(p) && statSync(p).isFile()

/** The file of module `dotted` under `root`: `a/b.py` or the package `a/b/__init__.py`. */
function moduleFile(root: string, dotted: string): string | undefined {
  const base = path.join(root, ...dotted.split('.'))
  if (isFile(`${base}.py`)) return `${base}.py`
  if (isFile(path.join(base, '__init__.py'))) return path.join(base, '__init__.py')
  return undefined
}

/** The dotted name of a file under `root` (`a/b.py` -> `a.b`, `a/__init__.py` -> `a`). */
function dottedName(root: string, file: string): string {
  const rel = path.relative(root, file).replace(/\.py$/, '').split(path.sep)
  if (rel.at(-1) === '__init__') rel.pop()
  return rel.join('.')
}

// Statements, with parenthesised and backslash-continued lines joined and comments dropped (strings are not parsed:
// an `import` inside a docstring counts too, which at worst copies one module more).
function statements(text: string): string[] {
  const joined = text
    .replace(/\\\r?\n/g, ' ')
    .replace(
      /\(([^()]*)\)/g,
      (_, inner: string) => `(${inner.replace(/#[^\n]*/g, '').replace(/\s+/g, ' ')})`,
    )
  return joined.split(/\r?\n|;/).map((l) => l.replace(/#.*$/, '').trim())
}

/** The modules a file's import statements name, as absolute dotted names (relative imports resolved). */
function importsOf(text: string, selfName: string, isPackage: boolean): string[] {
  const out: string[] = []
  const pkg = isPackage ? selfName : selfName.split('.').slice(0, -1).join('.')
  for (const s of statements(text)) {
    let m = /^import\s+(.+)$/.exec(s)
    if (m) {
      for (const part of m[1].split(',')) {
        const name = part
          .trim()
          .split(/\s+as\s+/)[0]
          .trim()
        if (/^[\w.]+$/u.test(name)) out.push(name)
      }
      continue
    }
    m = /^from\s+(\.*)([\w.]*)\s+import\s+\(?([^)]*)\)?$/u.exec(s)
    if (!m) continue
    const [, dots, mod, names] = m
    let from = mod
    if (dots.length > 0) {
      const parts = pkg === '' ? [] : pkg.split('.')
      const up = parts.slice(0, parts.length - (dots.length - 1))
      from = [...up, ...(mod ? [mod] : [])].join('.')
    }
    if (from) out.push(from)
    for (const n of names.split(',')) {
      const name = n
        .trim()
        .split(/\s+as\s+/)[0]
        .trim()
      if (name && name !== '*' && /^\w+$/u.test(name)) out.push(from ? `${from}.${name}` : name)
    }
  }
  return out
}

/**
 * The files under `sourceRoot` that Python would have in `sys.modules` after importing each entry file (`--module
 * wf.py`): the entries, their parent packages' `__init__.py`, and, transitively, every module their `import` and
 * `from … import` statements name that resolves inside `sourceRoot` (a package's `__init__.py` with it). Imports that
 * resolve elsewhere (the standard library, site-packages) are not followed. A static reading: an import that runs
 * only in some branch counts, a dynamic `importlib.import_module` does not. Sorted absolute paths.
 */
export function resolveModuleFiles(
  sourceRoot: string,
  entries: readonly string[],
  cwd: string = process.cwd(),
): string[] {
  const root = path.resolve(cwd, sourceRoot)
  const found = new Set<string>()
  const queue: string[] = []
  const add = (file: string) => {
    if (found.has(file)) return
    found.add(file)
    queue.push(file)
    // Importing a.b.c imports a and a.b first.
    const name = dottedName(root, file).split('.')
    for (let i = 1; i < name.length; i++) {
      const parent = moduleFile(root, name.slice(0, i).join('.'))
      if (parent) add(parent)
    }
  }
  for (const entry of entries) {
    const abs = path.resolve(cwd, entry)
    const rel = path.relative(root, abs)
    if (rel.startsWith('..') || path.isAbsolute(rel) || !isFile(abs) || !abs.endsWith('.py'))
      throw new ImagespecError(
        'E_USAGE',
        `--module ${entry}: not a .py file inside source_root "${sourceRoot}"`,
        {
          field: 'source_root',
          hint: 'Name the Python files your workflow imports from source_root, e.g. --module wf.py',
        },
      )
    add(abs)
  }
  while (queue.length > 0) {
    const file = queue.shift()!
    const self = dottedName(root, file)
    for (const name of importsOf(readFileSync(file, 'utf8'), self, file.endsWith('__init__.py'))) {
      const target = moduleFile(root, name)
      if (target) add(target)
    }
  }
  return [...found].sort()
}
