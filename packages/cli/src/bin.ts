#!/usr/bin/env node
// The `imagespec` binary (built to dist/bin.cjs). It runs dist/imagespec.cjs, the whole command line in one CommonJS
// file, compiled with a V8 code cache: a quick command (`exists`, `name`, a `build` that finds its image) spends most
// of its time loading code, and Node 20 has no compile cache of its own (Node 22's `module.enableCompileCache` is the
// same idea). The cache is one file per kind of run (command and options), Node version and installed bundle, written
// after the first run that lacks it and used no Docker engine. Each file starts with a copy of the bundle it was made
// from and is used only when that copy equals the bundle byte for byte (a native compare: hashing the 570 kB bundle in
// JavaScript cost a quick run ~5 ms, loading node:crypto for it as much), so no cache ever runs with other code than its
// own. A cache V8 rejects (another Node) is rewritten. Never fatal: any cache problem means a normal compile.
//
// IMAGESPEC_COMPILE_CACHE=<dir> picks the directory (default: $XDG_CACHE_HOME/imagespec or ~/.cache/imagespec);
// IMAGESPEC_COMPILE_CACHE=0 or NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import Module, { createRequire } from 'node:module'
import { homedir } from 'node:os'
import path from 'node:path'
import vm from 'node:vm'

const COMMANDS = new Set(['name', 'validate', 'render', 'exists', 'build', 'scan'])

function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const setting = env.IMAGESPEC_COMPILE_CACHE
  if (setting === '0' || env.NODE_DISABLE_COMPILE_CACHE) return undefined
  if (setting) return path.resolve(setting)
  const home = env.HOME || homedir()
  const base = env.XDG_CACHE_HOME || (home ? path.join(home, '.cache') : '')
  return base ? path.join(base, 'imagespec') : undefined
}

/** A 64-bit hash of a short string (two 32-bit multiply-xor lanes, as in cyrb53), as 16 hex digits. */
function shortHash(text: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0')
}

/**
 * The cache file for this installed bundle (its file's device, inode, size and times: two installations, or a rebuilt
 * bundle, get files of their own rather than overwriting each other's), Node and kind of run: the command and the
 * names of the options given (a cache holds the functions the run that wrote it compiled, and `exists --ref` runs
 * other code than `exists <spec>`). The name only spreads files; what a file may be used for is decided by its
 * content (`readCache`).
 */
function cacheFile(bundle: string, argv: readonly string[]): string | undefined {
  const dir = cacheDir(process.env)
  if (!dir) return undefined
  const st = statSync(bundle, { bigint: true })
  const install = shortHash(`${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`)
  const command = argv.find((a) => !a.startsWith('-'))
  const flags = [
    ...new Set(
      argv.filter((a) => /^--[a-z][a-z-]*(=|$)/.test(a)).map((a) => a.slice(2).split('=')[0]),
    ),
  ].sort()
  const kind = [command && COMMANDS.has(command) ? command : 'other', ...flags].join('.')
  return path.join(dir, `v8-${process.version}-${process.arch}-${install}-${kind}.cache`)
}

/** The code cache in `file`, when the file holds a copy of `source` (byte for byte) followed by it. */
function readCache(file: string | undefined, source: Buffer): Buffer | undefined {
  if (!file) return undefined
  try {
    // Only a regular file owned by this user: code from a cache runs as this process.
    const st = lstatSync(file)
    if (!st.isFile() || (process.getuid && st.uid !== process.getuid())) return undefined
    const data = readFileSync(file)
    if (data.length <= source.length || !data.subarray(0, source.length).equals(source))
      return undefined
    return data.subarray(source.length)
  } catch {
    return undefined
  }
}

function writeCache(file: string, source: Buffer, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
    writeFileSync(tmp, Buffer.concat([source, data]), { mode: 0o600 })
    renameSync(tmp, file) // atomic: concurrent first runs each write a whole file
  } catch {
    // a read-only or full disk only costs speed; a copy half written or not renamed is not left behind
    try {
      rmSync(tmp, { force: true })
    } catch {
      // nothing was written
    }
  }
}

type Cli = { runProcess(opts: { importModule: (url: string) => Promise<unknown> }): Promise<void> }

/** Compiles the bundle through the V8 code cache (see above) and returns its exports. */
function loadCached(bundle: string): Cli {
  let bytes: Buffer
  try {
    bytes = readFileSync(bundle)
  } catch {
    process.stderr.write(`✖ imagespec is not built: ${bundle} is missing (run \`pnpm build\`)\n`)
    process.exit(70)
  }
  let file: string | undefined
  try {
    file = cacheFile(bundle, process.argv.slice(2))
  } catch {
    file = undefined
  }
  const cachedData = readCache(file, bytes)
  const script = new vm.Script(Module.wrap(bytes.toString('utf8')), {
    filename: bundle,
    cachedData,
  })
  if (file && (!cachedData || script.cachedDataRejected)) {
    const target = file
    // Written at exit, so that the cache holds every function the run compiled, not just the top level; and not by a
    // run that talked to a Docker engine (a real build): it would fill the cache with the build machinery, which every
    // later quick run of that kind (a build that finds its image) would deserialize for nothing.
    process.once('exit', () => {
      if (
        !Object.keys(require.cache).some((f) =>
          f.includes(`${path.sep}node_modules${path.sep}dockerode${path.sep}`),
        )
      )
        writeCache(target, bytes, script.createCachedData())
    })
  }
  const mod = { exports: {} as Cli }
  ;(script.runInThisContext() as (...args: unknown[]) => void).call(
    mod.exports,
    mod.exports,
    createRequire(bundle),
    mod,
    bundle,
    __dirname,
  )
  return mod.exports
}

const bundle = path.join(__dirname, 'imagespec.cjs')
// --debug prints stack traces: those go through the bundle's source map to the TypeScript sources (file, line and
// the original function names of the minified bundle). Node's loader applies source maps, code compiled by
// vm.Script gets none, so a debug run loads the bundle with require() and no code cache.
const debug = process.argv.includes('--debug')
if (debug) process.setSourceMapsEnabled(true)
const cli: Cli = debug ? (createRequire(__filename)(bundle) as Cli) : loadCached(bundle)
// Code compiled by vm.Script has no module loader for import(): builder modules are imported from here.
void cli.runProcess({ importModule: (url) => import(url) })
