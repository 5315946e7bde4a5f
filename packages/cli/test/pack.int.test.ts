// Release readiness: every package is packed as it would be published (pnpm pack rewrites workspace: ranges), the
// tarballs are installed into a fresh folder, and there: `npx imagespec --help`, `--version` (bumped in a copy of the
// CLI before packing: the binary reads the packed package.json), an ESM import of each package, and a type-check of a
// consumer. Third-party dependencies come from pnpm's store (the npm registry only when the store lacks them).
import { execFileSync } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 26,
    env: { ...process.env, CI: 'true' },
  })

interface Pkg {
  name: string
  version: string
  files?: string[]
  dependencies?: Record<string, string>
  exports: Record<string, unknown>
  private?: boolean
}

describe('packed packages install and work in a fresh folder', () => {
  const work = mkdtempSync(join(tmpdir(), 'imagespec-pack-'))
  afterAll(() => rmSync(work, { recursive: true, force: true }))
  const dirs = readdirSync(join(repo, 'packages')).map((d) => join(repo, 'packages', d))
  const pkgs = dirs.map((d) => ({
    dir: d,
    pkg: JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as Pkg,
  }))

  it('packs, installs, runs npx imagespec, imports each package as ESM and type-checks a consumer', () => {
    const tarballs = join(work, 'tarballs')
    mkdirSync(tarballs)
    const tgz: Record<string, string> = {}
    for (const { dir, pkg } of pkgs) {
      if (pkg.name === '@imagespec/cli') {
        // A copy with a bumped version: what `changeset version` does before a publish.
        const copy = join(work, 'cli-copy')
        mkdirSync(copy)
        for (const f of ['package.json', 'dist', 'README.md', 'LICENSE'])
          cpSync(join(dir, f), join(copy, f), { recursive: true })
        // npm pack, unlike pnpm's, does not apply publishConfig: applied here as pnpm publish would.
        const { publishConfig, ...rest } = pkg as Pkg & {
          publishConfig?: { exports?: Pkg['exports'] }
        }
        const bumped = {
          ...rest,
          ...(publishConfig?.exports && { exports: publishConfig.exports }),
          version: '0.0.0-packtest.1',
        }
        for (const [k, v] of Object.entries(bumped.dependencies ?? {}))
          if (v.startsWith('workspace:')) bumped.dependencies![k] = '*'
        writeFileSync(join(copy, 'package.json'), JSON.stringify(bumped, null, 2))
        run('npm', ['pack', '--silent', '--pack-destination', tarballs], copy)
      } else run('pnpm', ['pack', '--pack-destination', tarballs], dir)
    }
    for (const f of readdirSync(tarballs)) {
      const { name } = JSON.parse(
        run('tar', ['-xzOf', join(tarballs, f), 'package/package.json'], work),
      ) as Pkg
      tgz[name] = `file:${join(tarballs, f)}`
      const listing = run('tar', ['-tzf', join(tarballs, f)], work)
      expect(listing, f).toContain('package/LICENSE')
      expect(listing, f).not.toMatch(/package\/(src|test)\//)
      // Every runtime dependency is one the shipped code (JS or type declarations) names; a bundled one is a dev
      // dependency.
      const shipped = listing.split('\n').filter((e) => /^package\/dist\/.*\.(c?js|d\.ts)$/.test(e))
      const code = shipped.map((e) => run('tar', ['-xzOf', join(tarballs, f), e], work)).join('\n')
      // Every export target (every condition) is a file the tarball ships: no condition points at the sources.
      const packed = JSON.parse(
        run('tar', ['-xzOf', join(tarballs, f), 'package/package.json'], work),
      ) as Pkg
      const targets = (v: unknown): string[] =>
        typeof v === 'string'
          ? [v]
          : v && typeof v === 'object'
            ? Object.values(v).flatMap(targets)
            : []
      for (const t of targets(packed.exports))
        expect(listing.split('\n'), `${name} exports ${t}`).toContain(
          `package/${t.replace(/^\.\//, '')}`,
        )
      const { dependencies = {} } = JSON.parse(
        run('tar', ['-xzOf', join(tarballs, f), 'package/package.json'], work),
      ) as Pkg
      for (const dep of Object.keys(dependencies))
        expect(
          code.includes(`'${dep}'`) ||
            code.includes(`"${dep}"`) ||
            code.includes(`"${dep}/`) ||
            code.includes(`'${dep}/`),
          `${name} ships no use of ${dep}`,
        ).toBe(true)
    }
    expect(Object.keys(tgz).sort()).toEqual(pkgs.map((p) => p.pkg.name).sort())

    const app = join(work, 'app')
    mkdirSync(app)
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: { ...tgz, '@types/node': '^20.19.0', typescript: '5.9.3' },
      }),
    )
    // The tarballs' own dependencies on each other resolve to the tarballs too.
    const allowBuilds = 'allowBuilds:\n  cpu-features: false\n  protobufjs: false\n  ssh2: false\n'
    writeFileSync(
      join(app, 'pnpm-workspace.yaml'),
      `${allowBuilds}overrides:\n${Object.entries(tgz)
        .map(([n, t]) => `  "${n}": "${t}"`)
        .join('\n')}\n`,
    )
    run('pnpm', ['install', '--prefer-offline', '--config.confirmModulesPurge=false'], app)

    expect(run('npx', ['--no-install', 'imagespec', '--help'], app)).toMatch(/Usage: imagespec/)
    expect(run('npx', ['--no-install', 'imagespec', '--version'], app).trim()).toBe(
      '0.0.0-packtest.1',
    )
    for (const { pkg } of pkgs) {
      // A marked line, so that anything else a package or the runtime prints cannot be mistaken for the count; the
      // whole output goes into the message if the marker is missing.
      const importIt =
        'const m = await import(process.argv[1]); console.log("exports=" + Object.keys(m).length)'
      const out = run(process.execPath, ['--input-type=module', '-e', importIt, pkg.name], app)
      const count = /^exports=(\d+)$/m.exec(out)?.[1]
      expect(Number(count), `${pkg.name} printed ${JSON.stringify(out)}`).toBeGreaterThan(0)
    }
    expect(
      JSON.parse(
        run(
          'node',
          [
            '--input-type=module',
            '-e',
            `import s from '@imagespec/spec/schema.json' with { type: 'json' }; console.log(JSON.stringify(s.title))`,
          ],
          app,
        ),
      ),
    ).toBe('ImageSpec')

    writeFileSync(
      join(app, 'consumer.ts'),
      [
        `import { loadSpec, type ImageSpec } from '@imagespec/spec'`,
        `import { createEngine } from '@imagespec/builder'`,
        `import buildah from '@imagespec/builder-buildah'`,
        `import { main } from '@imagespec/cli'`,
        `const spec: Partial<ImageSpec> = { name: 'x' }`,
        `export const uses = [loadSpec, createEngine, buildah, main, spec] as const`,
      ].join('\n'),
    )
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    )
    run('node', [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app)
  })
})
