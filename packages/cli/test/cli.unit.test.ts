import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { ImagespecError } from '@imagespec/spec'
import { printError } from '../src/index.js'
import { runMain } from './_main.js'
import { createProgress } from '../src/progress.js'

const dir = mkdtempSync(join(tmpdir(), 'imagespec-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(
  join(dir, 'ok.yaml'),
  'name: hello\nregistry: ghcr.io/acme\npython_version: "3.11"\npackages: [requests]\n',
)
writeFileSync(join(dir, 'bad.yaml'), 'name: hello\npackages: requests\n')
writeFileSync(
  join(dir, 'noop.yaml'),
  'name: hello\nbuilder: noop\nbase_image: ghcr.io/acme/prebuilt:1\n',
)
writeFileSync(
  join(dir, 'plugin.mjs'),
  `export default () => ({ name: 'custom', contractVersion: 1, priority: 9,
     capabilities: { cacheMounts: false, secrets: false, multiPlatform: false, push: false },
     shouldBuild: async () => true, build: async () => ({}),
     describe: async (req) => ({ command: 'custom-build ' + req.imageName }) })\n`,
)

const cli = (args: string[], stdin = '', env: Record<string, string> = {}) =>
  runMain(dir, args, { stdin, env })

describe('imagespec name', () => {
  it('prints the full image name from a file and from standard input', async () => {
    const a = await cli(['name', 'ok.yaml'])
    expect(a).toMatchObject({ code: 0, stderr: '' })
    expect(a.stdout).toMatch(/^ghcr\.io\/acme\/hello:[\w]{22}\n$/)
    const b = await cli(['name', '-'], readFileSync(join(dir, 'ok.yaml'), 'utf8'))
    expect(b.stdout).toBe(a.stdout)
  })
  it('--json prints id, tag and image_name', async () => {
    const { stdout } = await cli(['name', '--json', 'ok.yaml'])
    const j = JSON.parse(stdout)
    expect(Object.keys(j)).toEqual(['id', 'tag', 'image_name'])
    expect(j.image_name).toBe(`ghcr.io/acme/hello:${j.tag}`)
  })
})

describe('imagespec validate', () => {
  it('is silent with exit 0 on a valid spec', async () => {
    expect(await cli(['validate', 'ok.yaml'])).toEqual({ code: 0, stdout: '', stderr: '' })
  })
  it('prints one field: message line per problem and exits 2', async () => {
    const r = await cli(['validate', 'bad.yaml'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('packages: packages must be a list of strings or None\n')
  })
  it("a YAML syntax error shows the parser's message with line and column", async () => {
    writeFileSync(join(dir, 'syntax.yaml'), 'name: x\npackages: [a\n')
    const r = await cli(['validate', 'syntax.yaml'])
    expect(r).toMatchObject({ code: 2, stderr: '' })
    expect(r.stdout).toMatch(/^Cannot parse "syntax.yaml" at line 3, column 1: Flow sequence .*\n$/)
  })
  it('hostile YAML (alias bombs, cycles, deep nesting) is a spec error, never exit 70', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
    for (const [p, n] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
    ])
      bomb.push(`${n}: &${n} [${Array(9).fill(`*${p}`).join(', ')}]`)
    const cases: Record<string, string> = {
      'bomb.yaml': bomb.join('\n') + '\nname: x\n',
      'cycle.yaml': 'name: x\nbase_image: &b {name: y, base_image: *b}\n',
      'deep.yaml': `name: x\npackages: ${'['.repeat(3000)}${']'.repeat(3000)}\n`,
    }
    for (const [name, text] of Object.entries(cases)) {
      writeFileSync(join(dir, name), text)
      for (const cmd of ['validate', 'name', 'render']) {
        const r = await cli(cmd === 'render' ? [cmd, name, '--dockerfile-only'] : [cmd, name])
        expect(r.code, `${cmd} ${name}: ${r.stderr}`).toBe(2)
        expect(r.stdout + r.stderr).toMatch(
          /Cannot parse "[^"]*"[^:]*: (aliases expand|alias "\*b" refers|nesting deeper)/,
        )
        expect(r.stderr).not.toMatch(/internal error|\n\s+at /)
      }
    }
  })
  it('a missing file is a one-line error with exit 2, never a stack', async () => {
    const r = await cli(['validate', 'nope.yaml'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('✖ Spec file "nope.yaml" not found\n[E_SPEC_NOT_FOUND]\n')
  })
})

describe('argument handling', () => {
  it('unknown commands and missing arguments are usage errors (exit 2)', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2)
    expect((await cli(['name'])).code).toBe(2)
    expect((await cli(['build', 'ok.yaml', '--progress', 'fancy'])).code).toBe(2)
  })
  it('--help and --version exit 0', async () => {
    const h = await cli(['--help'])
    expect(h.code).toBe(0)
    expect(h.stdout).toContain('build [options] <spec>')
    expect((await cli(['--version'])).code).toBe(0)
  })
  it('render needs --out or --dockerfile-only', async () => {
    const r = await cli(['render', 'ok.yaml'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('[E_USAGE]')
  })
  it('exists needs exactly one of a spec and --ref', async () => {
    expect((await cli(['exists'])).code).toBe(2)
    expect((await cli(['exists', 'ok.yaml', '--ref', 'a:b'])).code).toBe(2)
  })
  it('a bad --label is a usage error', async () => {
    const r = await cli(['build', 'noop.yaml', '--label', 'novalue'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('Invalid label "novalue"')
  })
})

describe('relative paths in a spec', () => {
  it("resolve from the working directory (flytekit's rule): a file path, stdin and -C give one tag", async () => {
    mkdirSync(join(dir, 'proj'), { recursive: true })
    writeFileSync(join(dir, 'proj/req.txt'), 'numpy\n')
    const text = 'name: rel\nrequirements: req.txt\n'
    writeFileSync(join(dir, 'proj/rel.yaml'), text)
    const fromProj = await cli(['-C', 'proj', 'name', 'rel.yaml'])
    const stdin = await cli(['--directory', 'proj', 'name', '-'], text)
    expect(fromProj.code, fromProj.stderr).toBe(0)
    expect(stdin.stdout).toBe(fromProj.stdout)
    // From the parent directory, req.txt is <dir>/req.txt, which does not exist: flytekit would fail the same way.
    const fromParent = await cli(['name', 'proj/rel.yaml'])
    expect(fromParent.code).not.toBe(0)
    expect(fromParent.stderr).toContain('req.txt')
  })
})

describe('--module (source_root without source_copy_mode)', () => {
  it('names the loaded modules: they (and their imports) are copied and hashed; without it, render warns', async () => {
    mkdirSync(join(dir, 'mods/src/app'), { recursive: true })
    writeFileSync(join(dir, 'mods/src/app/__init__.py'), '')
    writeFileSync(join(dir, 'mods/src/app/wf.py'), 'from app import util\n')
    writeFileSync(join(dir, 'mods/src/app/util.py'), 'X = 1\n')
    writeFileSync(join(dir, 'mods/src/other.py'), '')
    writeFileSync(join(dir, 'mods/spec.yaml'), 'name: mods\nsource_root: src\n')
    const plain = await cli(['-C', 'mods', 'name', 'spec.yaml'])
    const named = await cli(['-C', 'mods', '--module', 'src/app/wf.py', 'name', 'spec.yaml'])
    expect(plain.code).toBe(0)
    expect(named.code, named.stderr).toBe(0)
    expect(named.stdout).not.toBe(plain.stdout)
    const warned = await cli(['-C', 'mods', 'render', 'spec.yaml', '--out', 'ctx-none'])
    expect(warned.stderr).toContain(
      'UserWarning: source_root "src" is copied in the LOADED_MODULES mode',
    )
    const copied = await cli([
      '-C',
      'mods',
      '--module',
      'src/app/wf.py',
      'render',
      'spec.yaml',
      '--out',
      'ctx-mods',
    ])
    expect(copied.stderr).not.toContain('LOADED_MODULES')
    expect(readdirSync(join(dir, 'mods/ctx-mods/src/app')).sort()).toEqual([
      '__init__.py',
      'util.py',
      'wf.py',
    ])
    expect(readdirSync(join(dir, 'mods/ctx-mods/src')).sort()).toEqual(['app'])
  })
})

describe('validate, render and build --dry-run run one check', () => {
  const refused: [string, string, string][] = [
    [
      'envkey.yaml',
      'name: x\nenv: {"bad key": "1"}\n',
      'env: "bad key" is not a valid environment variable name',
    ],
    [
      'heredoc.yaml',
      'name: x\ncommands: ["cat <<EOF"]\n',
      'commands[0]: must not contain "<<" (a Dockerfile heredoc)',
    ],
    [
      'copyabs.yaml',
      'name: x\ncopy: [/etc/passwd]\n',
      "copy[0]: Absolute paths or paths with '..' are not allowed in COPY command.",
    ],
    ['copymiss.yaml', 'name: x\ncopy: [nope.txt]\n', 'copy[0]: "nope.txt" does not exist'],
    ['uvlock.yaml', 'name: x\nrequirements: lock/uv.lock\n', 'To use uv.lock'],
    [
      'nested.yaml',
      'name: x\nbase_image: {name: y, commands: ["a\\\\"]}\n',
      'commands[0]: must not end with a backslash',
    ],
  ]
  mkdirSync(join(dir, 'lock'), { recursive: true })
  writeFileSync(join(dir, 'lock/uv.lock'), '')

  it.each(refused)(
    '%s: validate prints the problem (exit 2); render and build --dry-run refuse it too',
    async (name, text, line) => {
      writeFileSync(join(dir, name), text)
      const v = await cli(['validate', name])
      expect(v.code, v.stderr).toBe(2)
      expect(v.stdout.split('\n')[0]).toContain(line)
      const r = await cli(['render', '--dockerfile-only', name])
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain(line.replace(/^[^:]*: /, ''))
      const b = await cli(['--builder-module', './plugin.mjs', 'build', '--dry-run', name])
      expect(b.code).not.toBe(0)
      expect(b.stderr).toContain(line.replace(/^[^:]*: /, ''))
    },
  )

  it('warnings (a python_version read as a number, cuda with base_image) are printed by validate, render and build --dry-run', async () => {
    writeFileSync(
      join(dir, 'warn.yaml'),
      'name: x\npython_version: 3.10\ncuda: "12.1"\nbase_image: foo:1\n',
    )
    const warnings = [
      'UserWarning: python_version 3.1 is a number, not a string (YAML reads 3.10 as 3.1): quote the version, e.g. python_version: "3.10"',
      'UserWarning: cuda and cudnn select no image: base_image "foo:1" is used as given',
    ]
    for (const args of [
      ['validate', 'warn.yaml'],
      ['render', '--dockerfile-only', 'warn.yaml'],
      ['--builder-module', './plugin.mjs', 'build', '--dry-run', 'warn.yaml'],
    ]) {
      const r = await cli(args)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr.trimEnd().split('\n')).toEqual(warnings)
    }
  })

  it('render resolves a nested base spec to its image name, as build does', async () => {
    writeFileSync(
      join(dir, 'base.yaml'),
      'name: x\nregistry: ghcr.io/acme\nbase_image: {name: y, registry: ghcr.io/acme, packages: [a]}\n',
    )
    const r = await cli(['render', '--dockerfile-only', 'base.yaml'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^FROM ghcr\.io\/acme\/y:\S+$/m)
  })
})

describe('imagespec render', () => {
  it('--dockerfile-only prints the Dockerfile; --out writes the context', async () => {
    const r = await cli(
      ['--flytekit-version', '1.16.0', 'render', '--dockerfile-only', 'ok.yaml'],
      '',
      {
        IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
      },
    )
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain('#syntax=')
    expect(r.stdout).toMatch(/ENV _F_IMG_ID=\S+\n$/)
    const warned = await cli(['render', '--dockerfile-only', '-'], 'name: w\nenv: {FLAG: false}\n')
    expect(warned.code).toBe(0)
    expect(warned.stderr).toContain(
      'UserWarning: env.FLAG: False is not a string; it is written as False',
    )
    expect(warned.stdout).toContain(' FLAG=False\n')
    const out = await cli(['--flytekit-version', '1.16.0', 'render', 'ok.yaml', '--out', 'ctx'])
    expect(out.code).toBe(0)
    expect(readFileSync(join(dir, 'ctx/requirements_uv.txt'), 'utf8')).toBe(
      'requests\nflytekit==1.16.0',
    )
  })
})

describe('render --out safety', () => {
  it('refuses a non-empty folder unless --force, which replaces it without writing through its symlinks', async () => {
    const out = join(dir, 'ctx-safe')
    mkdirSync(out, { recursive: true })
    writeFileSync(join(dir, 'victim.txt'), 'keep me')
    symlinkSync(join(dir, 'victim.txt'), join(out, 'Dockerfile'))
    symlinkSync(join(dir, 'victim.txt'), join(out, 'requirements_uv.txt'))
    writeFileSync(join(out, 'stale.txt'), 'old')
    const refused = await cli(['render', 'ok.yaml', '--out', 'ctx-safe'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toBe(
      `✖ Cannot write the context to "${out}": it is not empty\nhint: Pass --force to replace its content, or name a new directory\n[E_USAGE]\n`,
    )
    const forced = await cli(['render', 'ok.yaml', '--out', 'ctx-safe', '--force'])
    expect(forced.code, forced.stderr).toBe(0)
    expect(readFileSync(join(dir, 'victim.txt'), 'utf8')).toBe('keep me')
    expect(readdirSync(out).sort()).toEqual(['Dockerfile', 'requirements_uv.txt'])
    expect(lstatSync(join(out, 'Dockerfile')).isSymbolicLink()).toBe(false)
    expect(readdirSync(dir).filter((n) => n.includes('.imagespec-'))).toEqual([])
  })
  it('a file, a path under a file, or a symlink as --out is a one-line error (exit 2)', async () => {
    writeFileSync(join(dir, 'afile'), '')
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'alink'))
    for (const [arg, why] of [
      ['afile', 'it is a file'],
      ['afile/sub', 'a parent of it is a file'],
      ['alink', 'it is a symbolic link'],
    ]) {
      const r = await cli(['render', 'ok.yaml', '--out', arg])
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toBe(
        `✖ Cannot write the context to "${join(dir, arg)}": ${why}\n[E_USAGE]\n`,
      )
    }
  })
  it('leaves nothing behind when the spec fails', async () => {
    writeFileSync(join(dir, 'failing.yaml'), 'name: x\ncopy: [nope.txt]\n')
    const r = await cli(['render', 'failing.yaml', '--out', 'ctx-failing'])
    expect(r.code).not.toBe(0)
    expect(readdirSync(dir).filter((n) => n.includes('ctx-failing'))).toEqual([])
  })
})

describe('imagespec build', () => {
  it('--dry-run with the noop builder decides without an engine', async () => {
    const r = await cli(['build', '--dry-run', 'noop.yaml'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Builder: noop')
    expect(r.stdout).toContain('Would build: yes')
    expect(r.stdout).toContain('Engine call: use ghcr.io/acme/prebuilt:1 as is')
  })
  it('runs the noop builder and prints its line', async () => {
    const r = await cli(['build', 'noop.yaml'])
    expect(r).toMatchObject({ code: 0, stdout: 'Using image: ghcr.io/acme/prebuilt:1\n' })
  })
  it('--builder-module loads a third-party builder that --builder selects', async () => {
    const r = await cli([
      '--builder-module',
      './plugin.mjs',
      'build',
      '--dry-run',
      '--builder',
      'custom',
      'ok.yaml',
    ])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Engine call: custom-build ghcr\.io\/acme\/hello:/)
  })
  it('a --builder-module of higher priority becomes the builder of specs that name none', async () => {
    const r = await cli(['--builder-module', './plugin.mjs', 'build', '--dry-run', 'ok.yaml'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('Builder: custom')
  })
  it('an invalid builder module is E_BUILDER_INVALID with exit 1', async () => {
    mkdirSync(join(dir, 'bad'), { recursive: true })
    writeFileSync(join(dir, 'bad/plugin.mjs'), 'export default 42\n')
    const r = await cli(['--builder-module', './bad/plugin.mjs', 'build', 'noop.yaml'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('[E_BUILDER_INVALID]')
  })
})

describe('exit codes', () => {
  it('exists: an invalid reference or a port out of range is exit 2 (never 70, never "missing")', async () => {
    for (const ref of ['127.0.0.1:99999/x:y', 'BAD REF', 'Acme/App']) {
      const r = await cli(['exists', '--ref', ref])
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toMatch(
        /^✖ Invalid image reference .*\n(hint: .*\n)?\[E_REFERENCE_INVALID\]\n$/,
      )
    }
  })
  it('exists: an unreadable or malformed docker config is exit 2 with one line, never "missing", never its content', async () => {
    mkdirSync(join(dir, 'dockercfg'), { recursive: true })
    writeFileSync(
      join(dir, 'dockercfg/config.json'),
      '{"auths": {"127.0.0.1:1": {"auth": "c2VjcmV0OnB3"}}, oops',
    )
    for (const extra of [[], ['--debug']]) {
      const r = await cli([...extra, 'exists', '--ref', '127.0.0.1:1/x:y'], '', {
        DOCKER_CONFIG: join(dir, 'dockercfg'),
      })
      expect(r.code, r.stderr).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(/^✖ Docker config ".*config.json" is not valid JSON/)
      expect(r.stderr).not.toContain('c2VjcmV0OnB3')
    }
  })
  it('maps codes: bad input 2, other known errors 1, cancelled 130, anything else 70', () => {
    const sink = { write: () => undefined }
    const code = (c: ConstructorParameters<typeof ImagespecError>[0]) =>
      printError(new ImagespecError(c, 'x'), sink)
    expect(
      [
        'E_USAGE',
        'E_SPEC_INVALID',
        'E_SPEC_NOT_FOUND',
        'E_REFERENCE_INVALID',
        'E_CONFIG_INVALID',
      ].map((c) => code(c as never)),
    ).toEqual([2, 2, 2, 2, 2])
    expect(['E_CONTEXT', 'E_BUILD_FAILED', 'E_REGISTRY_AUTH'].map((c) => code(c as never))).toEqual(
      [1, 1, 1],
    )
    expect(code('E_BUILD_CANCELLED')).toBe(130)
    expect(printError(new RangeError('x'), sink)).toBe(70)
  })
})

describe('output hygiene', () => {
  it('escapes control characters and bounds long values echoed from the input', async () => {
    writeFileSync(
      join(dir, 'evil.yaml'),
      `name: x\n"\\e[2J\\e[31mevil\\u2028line": 1\nenv:\n  ? "${'k'.repeat(5000)} "\n  : "1"\n`,
    )
    const r = await cli(['validate', 'evil.yaml'])
    expect(r.code).toBe(2)
    expect(r.stdout).not.toMatch(/[\u001b\u2028]/)
    expect(r.stdout).toContain("'\\x1b[2J\\x1b[31mevil\\u2028line'")
    for (const line of r.stdout.trimEnd().split('\n')) expect(line.length).toBeLessThan(400)
    writeFileSync(join(dir, 'long.yaml'), `name: x\nenv:\n  ? "${'k'.repeat(5000)} "\n  : "1"\n`)
    const n = await cli(['render', '--dockerfile-only', 'long.yaml'])
    expect(n.code).toBe(2)
    expect(n.stderr).not.toMatch(/[\u001b\u2028]/)
    expect(n.stderr).toContain('… (5001 characters)')
  })
})

describe('printError', () => {
  const sink = () => {
    let text = ''
    return { write: (s: string) => void (text += s), text: () => text }
  }
  it('prints message, details, hint and code; exit 2 for usage/spec, 1 otherwise', () => {
    const s = sink()
    const err = new ImagespecError('E_REGISTRY_AUTH', 'Registry "x" refused the credentials', {
      details: ['401 Unauthorized'],
      hint: 'Run docker login x',
    })
    expect(printError(err, s)).toBe(1)
    expect(s.text()).toBe(
      '✖ Registry "x" refused the credentials\n  → 401 Unauthorized\nhint: Run docker login x\n[E_REGISTRY_AUTH]\n',
    )
    expect(printError(new ImagespecError('E_SPEC_INVALID', 'bad'), sink())).toBe(2)
  })
  it('anything else is an internal error (exit 70) with the stack', () => {
    const s = sink()
    expect(printError(new TypeError('oops'), s)).toBe(70)
    expect(s.text()).toContain('internal error, please report it: oops')
    expect(s.text()).toContain('TypeError: oops\n    at ')
  })
  it('prints a command-line mistake with the help, exit 2, through the same printer', async () => {
    // (An unknown option or command gets one did-you-mean line instead: test/suggest.unit.test.ts.)
    const r = await cli(['name'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: missing required argument 'spec'\n\nUsage: imagespec name /)
    expect(r.stderr).not.toContain('internal error')
  })
  it('--debug adds the cause chain', () => {
    const s = sink()
    printError(new ImagespecError('E_BUILD_FAILED', 'x', { cause: new Error('root cause') }), s, {
      debug: true,
    })
    expect(s.text()).toContain('root cause')
  })
})

describe('progress output', () => {
  it('plain: flytekit lines verbatim on stdout, numbered steps and warnings on stderr', () => {
    let out = ''
    let err = ''
    const p = createProgress('plain', {
      stdout: { write: (s) => void (out += s) },
      stderr: { write: (s) => void (err += s) },
      stdin: Readable.from([]),
      env: {},
      cwd: dir,
      signal: new AbortController().signal,
    })
    const step = { digest: 'sha256:a', name: '[1/2] RUN pip install x' }
    p.onEvent({ type: 'notice', level: 'info', text: 'Image x:1 not found. building...' })
    p.onEvent({ type: 'notice', level: 'warn', text: 'uv.lock support is experimental' })
    p.onEvent({ type: 'step-started', step })
    p.onEvent({ type: 'log', step, stream: 'stdout', line: 'Collecting x' })
    p.onEvent({ type: 'step-completed', step, durationMs: 1200 })
    p.onEvent({ type: 'step-cached', step: { digest: 'sha256:b', name: '[2/2] COPY . /root' } })
    p.close()
    expect(out.replace(/\x1b\[[0-9;]*m/g, '')).toBe('Image x:1 not found. building...\n')
    expect(err.replace(/\x1b\[[0-9;]*m/g, '')).toBe(
      'UserWarning: uv.lock support is experimental\n#1 [1/2] RUN pip install x\n#1 Collecting x\n#1 DONE 1.2s\n#2 [2/2] COPY . /root CACHED\n',
    )
  })
})
