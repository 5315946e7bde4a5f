import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ImagespecError, isBuilderPlugin, type BuilderPlugin } from '@imagespec/spec'

const isPath = (s: string) => s.startsWith('.') || isAbsolute(s)

/** The entry file of an ESM-only package that `require.resolve` cannot see (exports with only `import`). */
function resolvePackageEntry(specifier: string, fromDir: string): string | undefined {
  const [scopeOrName, maybeName, ...sub] = specifier.split('/')
  const name = scopeOrName.startsWith('@') ? `${scopeOrName}/${maybeName}` : scopeOrName
  if (sub.length > 0 || (!scopeOrName.startsWith('@') && maybeName !== undefined)) return undefined
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name)
    if (existsSync(join(pkgDir, 'package.json'))) {
      const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
        exports?: unknown
        main?: string
      }
      let entry: unknown = pkg.exports
      if (entry && typeof entry === 'object' && '.' in entry)
        entry = (entry as Record<string, unknown>)['.']
      while (entry && typeof entry === 'object') {
        const e = entry as Record<string, unknown>
        entry = e.import ?? e.node ?? e.default
      }
      return join(pkgDir, typeof entry === 'string' ? entry : (pkg.main ?? 'index.js'))
    }
    if (dirname(dir) === dir) return undefined
  }
}

/** Resolves a package name or module path, trying each directory in order. */
export function resolveBuilderModule(
  specifier: string,
  fromDirs: readonly string[],
): string | undefined {
  for (const dir of fromDirs) {
    if (isPath(specifier)) {
      const file = resolve(dir, specifier)
      if (existsSync(file)) return file
      continue
    }
    try {
      return createRequire(join(dir, 'noop.js')).resolve(specifier)
    } catch {
      const entry = resolvePackageEntry(specifier, dir)
      if (entry && existsSync(entry)) return entry
    }
  }
  return undefined
}

/** Imports an ES or CommonJS module by file URL, as `import()` does. */
export type ModuleImporter = (url: string) => Promise<unknown>

/**
 * Loads a third-party builder from a package name or module path, resolved from each of `fromDirs` in turn (the
 * spec's working directory, then the process's). The module's default export (or the module itself) is a
 * `defineBuilder` factory, called with `options`, or a plugin object. Throws `E_BUILDER_NOT_FOUND` when the module
 * cannot be found and `E_BUILDER_INVALID` when it fails to load or is not a builder. `importModule` replaces
 * `import()` (see `EngineOptions.importModule`).
 */
export async function loadBuilder(
  specifier: string,
  fromDirs: readonly string[],
  options?: unknown,
  importModule: ModuleImporter = (url) => import(url),
): Promise<BuilderPlugin> {
  const file = resolveBuilderModule(specifier, fromDirs)
  if (!file) {
    throw new ImagespecError(
      'E_BUILDER_NOT_FOUND',
      `Image builder ${specifier} is not registered.`,
      {
        hint: `"${specifier}" is neither a registered builder nor a module found from ${fromDirs.map((d) => `"${d}"`).join(', ')}`,
      },
    )
  }
  let mod: Record<string, unknown>
  try {
    mod = (await importModule(pathToFileURL(file).href)) as Record<string, unknown>
  } catch (cause) {
    throw new ImagespecError('E_BUILDER_INVALID', `Builder module "${specifier}" failed to load`, {
      cause,
    })
  }
  let candidate: unknown = 'default' in mod ? mod.default : mod
  if (typeof candidate === 'function') {
    try {
      candidate = await (candidate as (o: unknown) => unknown)(options)
    } catch (cause) {
      throw new ImagespecError('E_BUILDER_INVALID', `Builder factory of "${specifier}" failed`, {
        cause,
      })
    }
  }
  if (!isBuilderPlugin(candidate)) {
    throw new ImagespecError(
      'E_BUILDER_INVALID',
      `Module "${specifier}" is not an imagespec builder`,
      {
        details: [
          'expected a default export made with defineBuilder() returning { name, contractVersion: 1, capabilities, build }',
        ],
      },
    )
  }
  return candidate
}
