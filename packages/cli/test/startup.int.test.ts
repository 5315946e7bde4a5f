// The quick paths load only what they use: probing, naming and building an image that exists (here:
// whose existence is unknown, which flytekit treats alike) never load the Dockerfile renderer, the installers, the
// Docker driver or their dependencies. From the sources, a module hook records every module the process loads; the
// built binary is one bundle that keeps the same lazy structure, and requires the Docker client and gRPC (kept out of
// the bundle) only to build, which a CommonJS hook checks.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './_cli.js'

const dir = mkdtempSync(join(tmpdir(), 'imagespec-startup-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
// Port 9 on loopback refuses connections: the probe answers "unknown" at once.
const spec = join(dir, 'spec.yaml')
writeFileSync(
  spec,
  'name: quick\nregistry: 127.0.0.1:9\npython_version: "3.11"\npackages: [requests]\n',
)
writeFileSync(
  join(dir, 'trace.mjs'),
  `import { register } from 'node:module'
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs'
let file
export function initialize(data) { file = data.file }
export async function load(url, context, next) { appendFileSync(file, url + '\\\\n'); return next(url, context) }\`),
  { data: { file: process.env.TRACE_FILE } })
`,
)

const HEAVY =
  /\/packages\/(dockerfile|installers|docker|python-source)\/|\/node_modules\/.*\/(ejs|semver|dockerode|proper-lockfile|@lezer\/python)\//

async function loaded(args: string[], code: number): Promise<string[]> {
  const file = join(dir, `trace-${args[0]}-${Math.random().toString(36).slice(2)}.txt`)
  const r = await runCli(args, {
    env: { TRACE_FILE: file },
    nodeArgs: ['--import', pathToFileURL(join(dir, 'trace.mjs')).href],
    dist: false,
  })
  expect(r.code, r.stderr).toBe(code)
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:'))
}

const QUICK = [
  [['exists', '--ref', '127.0.0.1:9/quick:tag'], 3],
  [['exists', spec], 3],
  [['name', spec], 0],
  [['build', spec, '--progress', 'plain'], 0],
] as const
// `validate` is no quick path: it runs every check render runs, so it loads the renderer and the installers.

writeFileSync(
  join(dir, 'trace.cjs'),
  `const Module = require('node:module'); const { appendFileSync } = require('node:fs'); const load = Module._load
Module._load = function (request, ...rest) { appendFileSync(process.env.TRACE_FILE, request + '\\n'); return load.call(this, request, ...rest) }\n`,
)

describe('quick paths of the built binary', () => {
  it.each(QUICK)('%j requires neither the Docker client nor gRPC', async (args, code) => {
    const file = join(dir, `trace-dist-${args[0]}-${Math.random().toString(36).slice(2)}.txt`)
    const r = await runCli([...args], {
      env: { TRACE_FILE: file },
      nodeArgs: ['--require', join(dir, 'trace.cjs')],
      dist: true,
    })
    expect(r.code, r.stderr).toBe(code)
    const requests = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    expect(requests.some((q) => q.endsWith('imagespec.cjs') || q.endsWith('bin.cjs'))).toBe(true)
    expect(requests.filter((q) => /^(dockerode|@grpc\/grpc-js|protobufjs)(\/|$)/.test(q))).toEqual(
      [],
    )
  })
  it('a real build requires them (the check can fail)', async () => {
    const file = join(dir, 'trace-dist-build-real.txt')
    const built = join(dir, 'built.yaml')
    writeFileSync(
      built,
      'name: quick\nbase_image: imagespec-none/absent:0\npython_version: "3.11"\n',
    )
    // No registry: the local engine is asked, then the build starts and fails to pull the absent base image.
    await runCli(['build', built, '--progress', 'plain', '--no-push'], {
      env: { TRACE_FILE: file, DOCKER_HOST: 'unix:///nonexistent.sock' },
      nodeArgs: ['--require', join(dir, 'trace.cjs')],
      dist: true,
    })
    expect(readFileSync(file, 'utf8').split('\n')).toContain('dockerode')
  })
})

writeFileSync(
  join(dir, 'builtins.cjs'),
  `const { appendFileSync } = require('node:fs')
const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')
Object.defineProperty(process, 'stdin', { configurable: true, get() { appendFileSync(process.env.TRACE_FILE, 'process.stdin\\n'); return stdin.get.call(process) } })
process.on('exit', () => appendFileSync(process.env.TRACE_FILE, process.moduleLoadList.join('\\n')))\n`,
)

describe("Node's own modules on the quick paths of the built binary", () => {
  // A registry that holds every tag asked for, as a two-platform index: the skip path of a build, as in the benches.
  // (What the probe reads from a real registry is tested in @imagespec/registry; here only the process's modules count.)
  let server: Server
  let host = ''
  beforeAll(async () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: ['amd64', 'arm64'].map((architecture) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${'1'.repeat(64)}`,
        size: 100,
        platform: { os: 'linux', architecture },
      })),
    })
    server = createServer((req, res) => {
      if (!req.url?.includes('/manifests/')) return res.writeHead(200).end()
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.index.v1+json',
        'docker-content-digest': `sha256:${'2'.repeat(64)}`,
      })
      res.end(req.method === 'HEAD' ? undefined : index)
    })
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`
    for (const [name, extra] of [
      ['present.yaml', ''],
      ['multi.yaml', 'platform: linux/amd64,linux/arm64\n'],
    ])
      writeFileSync(
        join(dir, name),
        `name: quick\nregistry: ${host}\npython_version: "3.11"\npackages: [requests]\n${extra}`,
      )
  })
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())))

  // node:crypto (a hash of a manifest, a relay tag, a fleet's engine choice) and process.stdin (Node's fs streams and
  // fs/promises when it is a file) each cost a quick command ~5 ms; a run that finds its image needs neither.
  const HEAVY_BUILTINS = /^(NativeModule (crypto|internal\/fs\/(promises|streams))|process\.stdin)$/
  async function builtins(args: string[], input?: string) {
    const file = join(dir, `builtins-${Math.random().toString(36).slice(2)}.txt`)
    const r = await runCli(args, {
      env: { TRACE_FILE: file },
      nodeArgs: ['--require', join(dir, 'builtins.cjs')],
      dist: true,
      ...(input !== undefined && { input }),
    })
    expect(r.code, r.stderr).toBe(0)
    const lines = readFileSync(file, 'utf8').split('\n')
    expect(lines).toContain('NativeModule vm') // the trace is the binary's
    return lines.filter((l) => HEAVY_BUILTINS.test(l))
  }

  it.each([
    [['name', 'present.yaml']],
    [['exists', 'present.yaml']],
    [['build', 'present.yaml', '--progress', 'plain']],
    [['build', 'multi.yaml', '--progress', 'plain', '--json']],
  ])('%j, with -C, loads neither node:crypto nor standard input', async (args) => {
    expect(await builtins(['-C', dir, ...args])).toEqual([])
    const ref = (await runCli(['-C', dir, 'name', 'present.yaml'], { dist: true })).stdout.trim()
    expect(await builtins(['exists', '--ref', ref])).toEqual([])
  })
  it('a spec on standard input makes process.stdin (the check can fail)', async () => {
    const text = readFileSync(join(dir, 'present.yaml'), 'utf8')
    expect(await builtins(['-C', dir, 'name', '-'], text)).toEqual(['process.stdin'])
  })
})

describe('quick paths', () => {
  it.each([
    [['exists', '--ref', '127.0.0.1:9/quick:tag'], 3],
    [['exists', spec], 3],
    [['name', spec], 0],
    [['build', spec, '--progress', 'plain'], 0],
  ] as const)('%j loads no renderer, installers or Docker driver', async (args, code) => {
    const urls = await loaded([...args], code)
    expect(urls.some((u) => u.includes('/packages/cli/'))).toBe(true)
    expect(urls.filter((u) => HEAVY.test(u))).toEqual([])
  })
  it('a Python source loads the Python parser (the check can fail)', async () => {
    writeFileSync(
      join(dir, 'wf.py'),
      'from flytekit import ImageSpec\nimage = ImageSpec(name="quick")\n',
    )
    const urls = await loaded(['name', join(dir, 'wf.py')], 0)
    expect(urls.some((u) => /\/packages\/python-source\//.test(u))).toBe(true)
    expect(urls.some((u) => /\/@lezer\/python\//.test(u))).toBe(true)
  })
})
