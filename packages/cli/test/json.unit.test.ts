import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildSummary } from '../src/commands/build.js'
import { runMain } from './_main.js'

const dir = mkdtempSync(join(tmpdir(), 'imagespec-json-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(
  join(dir, 'ok.yaml'),
  'name: app\npython_version: "3.11"\npackages: [requests]\nbuilder_options: {installer: pip}\nregistry_config: x.json\n',
)
writeFileSync(join(dir, 'bad.yaml'), 'name: app\npackages: requests\npython_versoin: "3.11"\n')
writeFileSync(
  join(dir, 'noop.yaml'),
  'name: app\nbuilder: noop\nbase_image: ghcr.io/acme/prebuilt:1\n',
)
const json = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))

describe('--json', () => {
  it('validate: {valid, problems[{field,message,code}], warnings}', async () => {
    const ok = await runMain(dir, ['validate', 'ok.yaml', '--json'])
    expect(ok.code).toBe(0)
    expect(json(ok.stdout)).toEqual([
      { valid: true, problems: [], warnings: [expect.stringContaining('registry_config')] },
    ])
    const bad = await runMain(dir, ['validate', 'bad.yaml', '--json'])
    expect(bad.code).toBe(2)
    const [body] = json(bad.stdout)
    expect(body.valid).toBe(false)
    expect(body.problems).toEqual([
      {
        field: 'python_versoin',
        message: expect.stringContaining("unexpected keyword argument 'python_versoin'"),
        code: 'E_SPEC_INVALID',
      },
      {
        field: 'packages',
        message: 'packages must be a list of strings or None',
        code: 'E_SPEC_INVALID',
      },
    ])
  })

  it('validate --json reports what checkSpec reports: context problems (E_CONTEXT) and spec warnings', async () => {
    writeFileSync(join(dir, 'copymiss.yaml'), 'name: app\ncopy: [nope.txt]\n')
    const miss = await runMain(dir, ['validate', 'copymiss.yaml', '--json'])
    expect(miss.code).toBe(2)
    expect(json(miss.stdout)).toEqual([
      {
        valid: false,
        problems: [
          {
            field: 'copy[0]',
            message: '"nope.txt" does not exist',
            code: expect.stringMatching(/^E_/),
          },
        ],
        warnings: [],
      },
    ])
    writeFileSync(join(dir, 'float.yaml'), 'name: app\npython_version: 3.10\n')
    const float = await runMain(dir, ['validate', 'float.yaml', '--json'])
    expect(float.code, float.stderr).toBe(0)
    expect(float.stderr).toBe('')
    expect(json(float.stdout)).toEqual([
      {
        valid: true,
        problems: [],
        warnings: [expect.stringContaining('python_version 3.1 is a number')],
      },
    ])
  })

  it('render: {out, files, dockerfile}', async () => {
    const only = json(
      (await runMain(dir, ['render', 'ok.yaml', '--dockerfile-only', '--json'])).stdout,
    )[0]
    expect(only).toMatchObject({ out: null, files: ['requirements_pip.txt'] })
    expect(only.dockerfile).toContain('FROM ')
    const r = await runMain(dir, ['render', 'ok.yaml', '--out', 'ctx', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(json(r.stdout)[0]).toEqual({
      out: join(dir, 'ctx'),
      files: ['Dockerfile', 'requirements_pip.txt'],
      dockerfile: only.dockerfile,
    })
  })

  it('build --dry-run: {image, would_build, reason, dockerfile, command}; build: the summary line', async () => {
    const dry = await runMain(dir, ['build', 'noop.yaml', '--dry-run', '--json'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(json(dry.stdout)).toEqual([
      {
        image: expect.stringMatching(/^app:/),
        would_build: true,
        reason: '',
        dockerfile: null,
        command: 'use ghcr.io/acme/prebuilt:1 as is',
      },
    ])
    const built = await runMain(dir, ['build', 'noop.yaml', '--json'])
    expect(built.code, built.stderr).toBe(0)
    const lines = built.stdout.trim().split('\n')
    expect(JSON.parse(lines.at(-1)!)).toEqual({
      image: 'ghcr.io/acme/prebuilt:1',
      status: 'built',
      digest: null,
      platforms: { 'linux/amd64': { status: 'built', engine: expect.any(String) } },
    })
  })

  it('build: one summary shape for one platform or many (multi-platform: per platform built on an engine, or present)', () => {
    const base = { imageName: 'r/app:t', builder: 'default', reason: [], bases: [] }
    const io = { env: { DOCKER_HOST: 'unix:///run/a.sock' } }
    // One platform, no fleet: the engine is DOCKER_HOST's, as before multi-platform builds.
    expect(buildSummary(io, { ...base, build: true }, 'linux/amd64', 'sha256:1')).toEqual({
      image: 'r/app:t',
      status: 'built',
      digest: 'sha256:1',
      platforms: { 'linux/amd64': { status: 'built', engine: 'unix:///run/a.sock' } },
    })
    const outcome = {
      ...base,
      build: true,
      digest: 'sha256:index',
      platforms: {
        'linux/amd64': { status: 'present' as const, digest: 'sha256:a' },
        'linux/arm64': { status: 'built' as const, engine: 'ssh://arm', digest: 'sha256:b' },
      },
    }
    expect(buildSummary(io, outcome, 'linux/amd64, linux/arm64', 'sha256:index')).toEqual({
      image: 'r/app:t',
      status: 'built',
      digest: 'sha256:index',
      platforms: {
        'linux/amd64': { status: 'present', engine: 'unix:///run/a.sock' },
        'linux/arm64': { status: 'built', engine: 'ssh://arm' },
      },
    })
    expect(
      buildSummary({ env: {} }, { ...base, build: false }, 'linux/amd64', null).platforms,
    ).toEqual({
      'linux/amd64': { status: 'present', engine: 'unix:///var/run/docker.sock' },
    })
  })

  it('an error is one JSON object {error:{code,message,hint,field}} with the usual exit status', async () => {
    const missing = await runMain(dir, ['name', 'missing.yaml', '--json'])
    expect(missing.code).toBe(2)
    expect(json(missing.stdout)).toEqual([
      {
        error: expect.objectContaining({
          code: 'E_SPEC_NOT_FOUND',
          message: expect.stringContaining('missing.yaml'),
          hint: null,
        }),
      },
    ])
    expect(Object.keys(json(missing.stdout)[0].error)).toEqual([
      'code',
      'message',
      'hint',
      'field',
      'details',
    ])
    expect(missing.stderr).toBe('')
    const usage = await runMain(dir, ['build', '--json'])
    expect(usage.code).toBe(2)
    expect(json(usage.stdout)[0].error.code).toBe('E_USAGE')
    const init = await runMain(dir, ['init', '--json'])
    expect(json(init.stdout)).toEqual([{ out: join(dir, 'imagespec.yaml') }])
  })
})
