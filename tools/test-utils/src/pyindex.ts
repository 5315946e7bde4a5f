import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface WheelSpec {
  /** Distribution name, e.g. `imagespec-hello`. */
  name: string
  version: string
  /** Files of the wheel by path, e.g. `{ 'imagespec_hello/__init__.py': 'GREETING = "hi"\n' }`. */
  files: Record<string, string>
}

/** A stub flytekit wheel (`flytekit.__version__` only) for images that pin flytekit `version` (PyPI is not reachable). */
export const flytekitStub = (version: string): WheelSpec => ({
  name: 'flytekit',
  version,
  files: { 'flytekit/__init__.py': `__version__ = "${version}"\n` },
})

export interface RunningIndex {
  /** `http://127.0.0.1:<port>/simple/` */
  url: string
  port: number
  /** Paths requested so far (to assert an install really used the index). */
  requests: string[]
  stop(): Promise<void>
}

// A pure-Python wheel is a zip with a dist-info directory; python3's zipfile writes it without any network.
const MAKE_WHEEL = `
import sys, json, zipfile, hashlib, base64
spec = json.load(open(sys.argv[1])); out = sys.argv[2]
norm = spec['name'].replace('-', '_')
di = f"{norm}-{spec['version']}.dist-info"
files = dict(spec['files'])
files[f'{di}/METADATA'] = f"Metadata-Version: 2.1\\nName: {spec['name']}\\nVersion: {spec['version']}\\n"
files[f'{di}/WHEEL'] = "Wheel-Version: 1.0\\nGenerator: imagespec-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
record = []
for p, c in files.items():
    d = base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest()).rstrip(b'=').decode()
    record.append(f"{p},sha256={d},{len(c.encode())}")
record.append(f"{di}/RECORD,,")
files[f'{di}/RECORD'] = "\\n".join(record) + "\\n"
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for p, c in files.items():
        z.writestr(p, c)
`

/** Builds the given pure-Python wheels and serves them as a PEP 503 simple index on 127.0.0.1. */
export async function startPackageIndex(
  wheels: WheelSpec[],
  opts: { port?: number } = {},
): Promise<RunningIndex> {
  const dir = mkdtempSync(join(tmpdir(), 'imagespec-pyindex-'))
  writeFileSync(join(dir, 'make_wheel.py'), MAKE_WHEEL)
  const byProject = new Map<string, string[]>()
  for (const w of wheels) {
    const file = `${w.name.replace(/-/g, '_')}-${w.version}-py3-none-any.whl`
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(w))
    execFileSync('python3', [join(dir, 'make_wheel.py'), join(dir, 'spec.json'), join(dir, file)])
    const project = w.name.toLowerCase().replace(/[-_.]+/g, '-')
    byProject.set(project, [...(byProject.get(project) ?? []), file])
  }
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0])
    requests.push(path)
    const m = /^\/simple\/([^/]+)\/?$/.exec(path)
    if (path === '/simple/' || path === '/simple') {
      res.setHeader('content-type', 'text/html')
      res.end([...byProject.keys()].map((p) => `<a href="/simple/${p}/">${p}</a>`).join('\n'))
    } else if (m) {
      const project = m[1].toLowerCase().replace(/[-_.]+/g, '-')
      const files = byProject.get(project)
      if (!files) return void res.writeHead(404).end('not found')
      res.setHeader('content-type', 'text/html')
      res.end(
        files
          .map((f) => {
            const sha = createHash('sha256')
              .update(readFileSync(join(dir, f)))
              .digest('hex')
            return `<a href="/files/${f}#sha256=${sha}">${f}</a>`
          })
          .join('\n'),
      )
    } else if (path.startsWith('/files/') && readdirSync(dir).includes(path.slice(7))) {
      res.setHeader('content-type', 'application/octet-stream')
      res.end(readFileSync(join(dir, path.slice(7))))
    } else {
      res.writeHead(404).end('not found')
    }
  })
  await new Promise<void>((r, j) => server.once('error', j).listen(opts.port ?? 0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    port,
    requests,
    stop: async () => {
      await new Promise((r) => server.close(r))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
