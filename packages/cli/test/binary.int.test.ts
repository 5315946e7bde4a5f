// The built binary: dist/bin.cjs runs the one-file bundle dist/imagespec.cjs through a V8 code cache, and loads
// builder plugins that bring their own copy of @imagespec/spec.
import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { DIST_BIN, runCli } from './_cli.js'

const dir = mkdtempSync(join(tmpdir(), 'imagespec-binary-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const spec = join(dir, 'spec.yaml')
// YAML 3.10 is the float 3.1: the spec carries a PyFloat.
writeFileSync(
  spec,
  'name: bin\nregistry: ghcr.io/acme\npython_version: 3.10\npackages: [requests]\n',
)
const run = (args: string[], env: Record<string, string | undefined> = {}, input?: string) =>
  runCli(args, { dist: true, env, input })

describe('the binary', () => {
  it('prints its version and names a spec from a file and from standard input', async () => {
    const version = JSON.parse(
      readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../package.json'), 'utf8'),
    ).version
    expect((await run(['--version'])).stdout.trim()).toBe(version)
    const fromFile = await run(['name', spec])
    expect(fromFile.code, fromFile.stderr).toBe(0)
    expect(fromFile.stdout).toMatch(/^ghcr\.io\/acme\/bin:\S+\n$/)
    const fromStdin = await run(['name', '-'], {}, readFileSync(spec, 'utf8'))
    expect(fromStdin.stdout).toBe(fromFile.stdout)
  })

  it('renders the Dockerfile from the template compiled into the bundle', async () => {
    const r = await run(['render', '--dockerfile-only', spec])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('FROM ')
    expect(r.stdout).toMatch(/ENV _F_IMG_ID=\S+\n$/)
  })

  it('an error is one line and exit 2, no stack', async () => {
    const r = await run(['name', join(dir, 'absent.yaml')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^✖ .*absent\.yaml/)
    expect(r.stderr).not.toContain('    at ')
  })

  it('answers a FIFO named uv.lock with exit 2 at once, and writes a context through its writer thread', async () => {
    const project = join(dir, 'fifo-lock')
    mkdirSync(join(project, 'src/pkg'), { recursive: true })
    execFileSync('mkfifo', [join(project, 'uv.lock')])
    writeFileSync(
      join(project, 'lock.yaml'),
      'name: x\npython_version: "3.11"\nrequirements: uv.lock\n',
    )
    // name and validate once read the lock for the tag and blocked for ever
    for (const args of [['name'], ['validate'], ['render', '--out', 'ctx-lock']]) {
      const r = await runCli([...args, 'lock.yaml'], {
        dist: true,
        cwd: project,
        timeoutMs: 20_000,
      })
      expect(r.code, r.stderr).toBe(2)
      // validate reports on standard output, the others on standard error
      expect(r.stdout + r.stderr).toContain(
        `Requirements file "${join(project, 'uv.lock')}" is not a regular file`,
      )
    }
    for (let i = 0; i < 300; i++) writeFileSync(join(project, `src/pkg/m${i}.py`), `x = ${i}\n`)
    writeFileSync(
      join(project, 'src.yaml'),
      'name: x\npython_version: "3.11"\nsource_root: src\nsource_copy_mode: all\n',
    )
    const r = await runCli(['render', 'src.yaml', '--out', 'ctx'], {
      dist: true,
      cwd: project,
      timeoutMs: 20_000,
    })
    expect(r.code, r.stderr).toBe(0)
    expect(readFileSync(join(project, 'ctx/src/pkg/m299.py'), 'utf8')).toBe('x = 299\n')
    expect(readdirSync(join(project, 'ctx/src/pkg'))).toHaveLength(300)
    expect(readdirSync(project).filter((n) => n.startsWith('.ctx'))).toEqual([])
  })

  it('--debug prints the stack mapped through the source map to the TypeScript sources', async () => {
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'name: x\npython_version: [1\n')
    const r = await run(['name', bad, '--debug'])
    expect(r.code).toBe(2)
    // the minified bundle's frames become the sources' files and function names
    expect(r.stderr).toMatch(/ {4}at parseSpecText \(.*packages\/spec\/src\/load\.ts:\d+:\d+\)/)
    expect(r.stderr).toMatch(/packages\/cli\/src\/commands\/name\.ts:\d+:\d+/)
    expect(r.stderr).not.toContain('imagespec.cjs:')
  })
})

describe('the compile cache', () => {
  const files = (d: string) =>
    (() => {
      try {
        return readdirSync(d)
      } catch {
        return []
      }
    })()

  it('the first run of a command writes its cache; the next runs use it as is', async () => {
    const cache = join(dir, 'cache-a')
    const first = await run(['name', spec], { IMAGESPEC_COMPILE_CACHE: cache })
    expect(first.code, first.stderr).toBe(0)
    const written = files(cache)
    expect(written).toHaveLength(1)
    expect(written[0]).toMatch(/^v8-v\d+\.\d+\.\d+-\w+-[0-9a-f]{16}-name\.cache$/)
    const before = statSync(join(cache, written[0]))
    const second = await run(['name', spec], { IMAGESPEC_COMPILE_CACHE: cache })
    expect(second.stdout).toBe(first.stdout)
    // An accepted cache is not rewritten (a rejected one would be).
    const after = statSync(join(cache, written[0]))
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs])
    // Another command, or the same with other options, runs other code: it gets its own file.
    await run(['exists', '--ref', '127.0.0.1:9/x:y'], { IMAGESPEC_COMPILE_CACHE: cache })
    await run(['name', '--json', spec], { IMAGESPEC_COMPILE_CACHE: cache })
    expect(files(cache).sort()).toEqual(
      [
        written[0],
        written[0].replace('-name.', '-exists.ref.'),
        written[0].replace('-name.', '-name.json.'),
      ].sort(),
    )
  })

  it('a second installation with the same size and mtime runs its own code, from a cache file of its own', async () => {
    const cache = join(dir, 'cache-content')
    const first = await run(['--help'], { IMAGESPEC_COMPILE_CACHE: cache })
    expect(first.code, first.stderr).toBe(0)
    expect(files(cache)).toHaveLength(1)
    // A copy of the package whose bundle differs only in one help line (same length), with the same mtime.
    const other = join(dir, 'other-install')
    mkdirSync(join(other, 'dist'), { recursive: true })
    const distDir = dirname(DIST_BIN)
    for (const name of readdirSync(distDir))
      copyFileSync(join(distDir, name), join(other, 'dist', name))
    copyFileSync(join(distDir, '../package.json'), join(other, 'package.json'))
    const bundle = readFileSync(join(distDir, 'imagespec.cjs'), 'utf8')
    const line = 'print the full image name'
    expect(first.stdout).toContain(line)
    expect(bundle).toContain(line)
    writeFileSync(join(other, 'dist/imagespec.cjs'), bundle.replace(line, line.toUpperCase()))
    const { mtime, atime } = statSync(join(distDir, 'imagespec.cjs'))
    utimesSync(join(other, 'dist/imagespec.cjs'), atime, mtime)
    const r = spawnSync(process.execPath, [join(other, 'dist/bin.cjs'), '--help'], {
      env: { ...process.env, IMAGESPEC_COMPILE_CACHE: cache },
      encoding: 'utf8',
    })
    expect(r.stdout).toContain(line.toUpperCase())
    expect(files(cache)).toHaveLength(2)
  })

  it('a damaged cache is rejected and rewritten; the output is unchanged', async () => {
    const cache = join(dir, 'cache-b')
    const good = await run(['name', spec], { IMAGESPEC_COMPILE_CACHE: cache })
    const [file] = files(cache)
    writeFileSync(join(cache, file), 'not a code cache')
    const r = await run(['name', spec], { IMAGESPEC_COMPILE_CACHE: cache })
    expect(r).toMatchObject({ code: 0, stdout: good.stdout, stderr: '' })
    expect(statSync(join(cache, file)).size).toBeGreaterThan(1000)
  })

  it('a cache made from other code is never used: its copy of the bundle must equal the bundle byte for byte', async () => {
    const cache = join(dir, 'cache-copy')
    const good = await run(['name', spec], { IMAGESPEC_COMPILE_CACHE: cache })
    const [file] = files(cache)
    const bundle = readFileSync(join(dirname(DIST_BIN), 'imagespec.cjs'))
    const written = readFileSync(join(cache, file))
    expect(written.subarray(0, bundle.length).equals(bundle)).toBe(true)
    // One byte of the copy changed (as if the file had been made from another build of the same size): rejected,
    // and rewritten from this bundle at exit.
    const other = Buffer.from(written)
    other[bundle.length >> 1] ^= 1
    writeFileSync(join(cache, file), other)
    const r = await run(['name', spec], { IMAGESPEC_COMPILE_CACHE: cache })
    expect(r).toMatchObject({ code: 0, stdout: good.stdout, stderr: '' })
    expect(readFileSync(join(cache, file)).subarray(0, bundle.length).equals(bundle)).toBe(true)
  })

  it('a cache that cannot be put in place leaves no partial file behind', async () => {
    const cache = join(dir, 'cache-taken')
    const first = await run(['name', spec], { IMAGESPEC_COMPILE_CACHE: cache })
    const [file] = files(cache)
    // A non-empty directory holds the cache file's name: the written copy cannot be renamed onto it.
    rmSync(join(cache, file))
    mkdirSync(join(cache, file, 'taken'), { recursive: true })
    const r = await run(['name', spec], { IMAGESPEC_COMPILE_CACHE: cache })
    expect(r).toMatchObject({ code: 0, stdout: first.stdout, stderr: '' })
    expect(files(cache)).toEqual([file])
  })

  it('IMAGESPEC_COMPILE_CACHE=0 and NODE_DISABLE_COMPILE_CACHE turn it off; an unusable directory only costs speed', async () => {
    const home = join(dir, 'home')
    mkdirSync(home)
    for (const env of [{ IMAGESPEC_COMPILE_CACHE: '0' }, { NODE_DISABLE_COMPILE_CACHE: '1' }]) {
      const r = await run(['name', spec], {
        HOME: home,
        XDG_CACHE_HOME: undefined,
        IMAGESPEC_COMPILE_CACHE: undefined,
        ...env,
      })
      expect(r.code, r.stderr).toBe(0)
    }
    expect(files(join(home, '.cache/imagespec'))).toEqual([])
    // The default directory is under $HOME/.cache (or $XDG_CACHE_HOME).
    await run(['name', spec], {
      HOME: home,
      XDG_CACHE_HOME: undefined,
      IMAGESPEC_COMPILE_CACHE: undefined,
    })
    expect(files(join(home, '.cache/imagespec'))).toHaveLength(1)
    // A file where the directory should be, and a read-only directory.
    const blocked = join(dir, 'blocked')
    writeFileSync(blocked, '')
    const readOnly = join(dir, 'read-only')
    mkdirSync(readOnly)
    chmodSync(readOnly, 0o500)
    for (const cache of [blocked, join(readOnly, 'sub')]) {
      const r = await run(['name', spec], { IMAGESPEC_COMPILE_CACHE: cache })
      expect(r).toMatchObject({ code: 0, stderr: '' })
    }
  })
})

describe('builder plugins with their own @imagespec/spec', () => {
  // The plugin imports the package's built ES module; the binary has its own copy inside the bundle.
  const specDist = pathToFileURL(
    resolve(dirname(fileURLToPath(import.meta.url)), '../../spec/dist/index.js'),
  ).href
  const plugin = join(dir, 'plugin.mjs')
  writeFileSync(
    plugin,
    `import { ImagespecError, PyFloat, imageName } from ${JSON.stringify(specDist)}
export default () => ({ name: 'own-copy', contractVersion: 1, priority: 9,
  capabilities: { cacheMounts: false, secrets: false, multiPlatform: false, push: false },
  shouldBuild: async () => true,
  describe: async (req) => ({ command: 'float=' + (req.loaded.spec.python_version instanceof PyFloat) + ' name=' + (await imageName(req.loaded)) }),
  build: async () => { throw new ImagespecError('E_BUILD_FAILED', 'the plugin refused', { hint: 'ask the plugin' }) },
})\n`,
  )

  it('sees the spec as its own copy would make it: same PyFloat, same image name', async () => {
    const name = (await run(['name', spec])).stdout.trim()
    const r = await run(['--builder-module', plugin, 'build', '--dry-run', spec])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`Engine call: float=true name=${name}`)
  })

  it('its ImagespecError prints as one, with exit 1 (not an internal error)', async () => {
    const r = await run(['--builder-module', plugin, 'build', spec])
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toContain('✖ the plugin refused')
    expect(r.stderr).toContain('ask the plugin')
    expect(r.stderr).not.toContain('internal error')
  })
})
