import { execFileSync } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import { parseSpecText, specFromObject } from '@imagespec/spec'
import { createContextPlan, createDockerContext, resolveContextSettings } from './context.js'

const cwd = useTempDir('ctxplan-')
mkdirSync(path.join(cwd, 'conf/empty'), { recursive: true })
writeFileSync(path.join(cwd, 'conf/a.yaml'), 'a: 1\n')
const load = (input: Record<string, unknown>) =>
  specFromObject(
    { name: 'ctx', python_version: '3.11', ...input },
    { cwd, env: {}, machine: 'x86_64' },
  )

describe('createContextPlan', () => {
  it('pip installer on Debian bookworm: no helper image, no cache mounts, no #syntax', async () => {
    const settings = resolveContextSettings(
      { IMAGESPEC_DOCKERFILE_SYNTAX: 'none' },
      { cacheMounts: false },
    )
    const plan = await createContextPlan(
      load({
        packages: ['requests==2.32.3'],
        apt_packages: ['git'],
        builder_options: { installer: 'pip' },
        pip_secret_mounts: [['netrc', '/root/.netrc']],
        commands: ['echo ok'],
      }),
      settings,
    )
    expect(plan.dockerfile).not.toMatch(/ghcr\.io|mambaorg|--mount=type=cache|#syntax/)
    expect(plan.files).toEqual([
      { path: 'requirements_pip.txt', content: 'requests==2.32.3\nflytekit==1.16.24' },
    ])
    expect(plan.secrets).toEqual([{ id: 'secret_0', src: 'netrc' }])
    expect(plan.warnings).toEqual([])
    expect(plan.dockerfile).toMatch(/^FROM python:3.11-slim\n/)
    await expect(plan.dockerfile).toMatchFileSnapshot('__snapshots__/pip.Dockerfile')
  })

  it('copies directories file by file, keeping empty directories', async () => {
    const plan = await createContextPlan(load({ copy: ['./conf//'] }))
    expect(plan.files.map((f) => f.path)).toEqual([
      'requirements_uv.txt',
      'conf/a.yaml',
      'conf/empty',
    ])
    expect(plan.dockerfile).toContain('\nCOPY --chown=flytekit conf /root/conf/\n')
  })

  it('names a missing copy entry', async () => {
    await expect(createContextPlan(load({ copy: ['conf/a.yaml', 'nope.txt'] }))).rejects.toThrow(
      expect.objectContaining({
        code: 'E_CONTEXT',
        message: 'copy[1]: "nope.txt" does not exist',
        field: 'copy[1]',
      }),
    )
  })

  it("refuses absolute and .. copy paths with flytekit's message", async () => {
    for (const copy of [['/etc/passwd'], ['a/../b']])
      await expect(createContextPlan(load({ copy }))).rejects.toThrow(
        "Absolute paths or paths with '..' are not allowed in COPY command.",
      )
  })

  it('needs a nested base spec resolved to its image name', async () => {
    await expect(
      createContextPlan(load({ base_image: { name: 'base', python_version: '3.11' } })),
    ).rejects.toThrow(/nested spec/)
  })

  it('holds the files the tag holds: directory links not followed, links leaving the tree and FIFOs refused', async () => {
    const dir = useTempDir('ctxplan-hostile-')
    mkdirSync(path.join(dir, 'tree/sub'), { recursive: true })
    writeFileSync(path.join(dir, 'tree/sub/a.txt'), 'a')
    symlinkSync('..', path.join(dir, 'tree/sub/loop'))
    symlinkSync('sub', path.join(dir, 'tree/alias'))
    const at = (input: Record<string, unknown>) =>
      specFromObject(
        { name: 'ctx', python_version: '3.11', ...input },
        { cwd: dir, env: {}, machine: 'x86_64' },
      )
    const plan = await createContextPlan(at({ copy: ['tree'] }))
    expect(plan.files.map((f) => f.path)).toEqual(['requirements_uv.txt', 'tree/sub/a.txt'])

    writeFileSync(path.join(dir, 'outside.txt'), 'secret')
    symlinkSync(path.join(dir, 'outside.txt'), path.join(dir, 'tree/sub/leak.txt'))
    await expect(createContextPlan(at({ copy: ['tree'] }))).rejects.toMatchObject({
      code: 'E_CONTEXT',
      message: expect.stringContaining('leak.txt" is a symbolic link'),
    })

    execFileSync('mkfifo', [path.join(dir, 'pipe')])
    const out = path.join(dir, 'out')
    await expect(createDockerContext(at({ copy: ['pipe'] }), out)).rejects.toMatchObject({
      code: 'E_CONTEXT',
      message: 'copy[0]: "pipe" is a FIFO: only regular files and directories can go into an image',
    })
  })

  it('selects a CUDA base image', async () => {
    const plan = await createContextPlan(load({ cuda: '11.8.0', cudnn: '8' }))
    expect(plan.dockerfile).toContain('\nFROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04\n')
  })

  it("writes env in the author's order, non-string values as Python str(), and warns about them (flytekit parity)", async () => {
    // flytekit: env = {"PYTHONPATH": "/root"}; env.update(yaml.safe_load(text)["env"]); " ".join(f"{k}={v}" ...), with
    // PyYAML reading the key ON as True (derived with CPython 3.11 + PyYAML 6.0.3, see packages/spec/test/parity.unit.test.ts).
    const input = parseSpecText(
      'name: ctx\nenv: {"10": ten, FLAG: false, ON: yes, COUNT: 1, RATIO: 1.5, NOTHING: null, "2": two, CLÉ: v, PYTHONPATH: /app}\n',
      's.yaml',
    )
    const plan = await createContextPlan(specFromObject(input, { cwd, env: {}, machine: 'x86_64' }))
    expect(plan.dockerfile).toContain(
      'SSL_CERT_DIR=/etc/ssl/certs     PYTHONPATH=/app 10=ten FLAG=False True=True COUNT=1 RATIO=1.5 NOTHING=None 2=two CLÉ=v\n',
    )
    expect(plan.warnings).toEqual([
      'env.FLAG: False is not a string; it is written as False (Python\'s str(), as flytekit does). Quote it in the spec to choose the text, e.g. "False"',
      'env.True: True is not a string; it is written as True (Python\'s str(), as flytekit does). Quote it in the spec to choose the text, e.g. "True"',
      'env.COUNT: 1 is not a string; it is written as 1 (Python\'s str(), as flytekit does). Quote it in the spec to choose the text, e.g. "1"',
      'env.RATIO: 1.5 is not a string; it is written as 1.5 (Python\'s str(), as flytekit does). Quote it in the spec to choose the text, e.g. "1.5"',
      'env.NOTHING: None is not a string; it is written as None (Python\'s str(), as flytekit does). Quote it in the spec to choose the text, e.g. "None"',
    ])
  })

  it('reads its settings from the environment', () => {
    expect(
      resolveContextSettings({
        IMAGESPEC_FLYTEKIT_VERSION: 'v1.15.2',
        IMAGESPEC_COMPAT: 'flytekit',
      }),
    ).toMatchObject({
      flytekitVersion: '1.15.2',
      compat: 'flytekit',
      syntax: 'docker/dockerfile:1.5',
      cacheMounts: true,
    })
  })
})
