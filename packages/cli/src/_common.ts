import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { ImagespecError, loadSpec, resolveModuleFiles, type LoadedSpec } from '@imagespec/spec'
import type { BuildSettings, SettingsFlags } from '@imagespec/builder'
import { pc } from './_colors.js'
import { printable } from './_sanitize.js'
import type { Io } from './io.js'
import type { GlobalOptions } from './main.js'

/**
 * Loads a spec file (or standard input for `-`); relative paths in it resolve against the working directory (`-C`),
 * as flytekit's do. A spec without `builder` gets `defaultBuilder` (the highest-priority registered builder; "default"
 * when not given).
 */
export function load(io: Io, file: string, defaultBuilder?: string): Promise<LoadedSpec> {
  return loadSpec(file, {
    cwd: io.cwd,
    env: io.env,
    stdin: file === '-' ? io.stdin : undefined,
    defaultBuilder,
  })
}

/**
 * Whether a command's argument stands for Python sources: a `.py` file (or `file.py:LINE`) or a folder. Spec files
 * (`.yaml`, `.yml`, `.json`) and `-` are told apart by name, without touching the file system.
 */
export function isPythonSource(io: Io, arg: string | undefined): boolean {
  if (arg === undefined || arg === '-' || /\.(ya?ml|json)$/i.test(arg)) return false
  if (/\.py(:\d+)?$/.test(arg)) return true
  return statSync(resolve(io.cwd, arg), { throwIfNoEntry: false })?.isDirectory() === true
}

/** Settings from the environment and the global flags (plus a command's own). */
export async function settingsFor(
  io: Io,
  g: GlobalOptions,
  flags: SettingsFlags = {},
): Promise<BuildSettings> {
  const { resolveSettings } = await import('@imagespec/builder')
  return resolveSettings(io.env, {
    ...flags,
    flytekitVersion: g.flytekitVersion,
    defaultPythonVersion: g.defaultPythonVersion,
  })
}

/** An engine with the builtin builders and every `--builder-module`. */
export async function engineFor(io: Io, g: GlobalOptions) {
  const { createEngine } = await import('@imagespec/builder')
  const engine = createEngine({ importModule: io.importModule })
  for (const m of g.builderModule ?? []) await engine.loadBuilder(m, [io.cwd])
  return engine
}

/**
 * `--module <file.py>`: the source files standing in for flytekit's loaded modules (LOADED_MODULES copy mode), the
 * named files and their imports inside source_root. Undefined when no --module is given.
 */
export function modulesFor(io: Io, g: GlobalOptions, loaded: LoadedSpec): string[] | undefined {
  if (!g.module?.length) return undefined
  const root = loaded.spec.source_root
  if (!root)
    throw new ImagespecError('E_USAGE', '--module needs a spec with source_root', {
      hint: 'Set source_root to the folder your modules live in',
    })
  return resolveModuleFiles(root, g.module, loaded.cwd)
}

/** Prints a spec warning on stderr as `UserWarning: …` (flytekit's form, as build does). */
function warningPrinter(io: Io): (message: string) => void {
  return (message) => io.stderr.write(`${pc.yellow('UserWarning:')} ${printable(message)}\n`)
}

/**
 * Runs every check render and build run on the spec (builder's `checkSpec`: nested bases, tag, context), printing
 * its warnings as they are raised; with `out`, writes the context there. validate, render and build --dry-run share it.
 */
export async function checkLoaded(
  io: Io,
  g: GlobalOptions,
  loaded: LoadedSpec,
  opts: {
    out?: string
    platform?: string
    onWarning?: (message: string) => void
    /** The command's settings when it resolved them already (build: its flags replace the environment). */
    settings?: BuildSettings
  } = {},
) {
  const settings = opts.settings ?? (await settingsFor(io, g))
  const { checkSpec, resolveContextSettings } = await import('@imagespec/builder')
  const render = await resolveContextSettings(io.env, {
    ...settings.render,
    loadedModules: modulesFor(io, g, loaded),
  })
  const target = opts.platform
    ? { ...loaded, spec: { ...loaded.spec, platform: opts.platform } }
    : loaded
  return checkSpec(
    target,
    { ...render, onWarning: opts.onWarning ?? warningPrinter(io) },
    { out: opts.out },
  )
}
