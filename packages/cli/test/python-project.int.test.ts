// Python sources end to end: the example Flyte project scanned and built with --dry-run against a real registry, and
// a small project whose images (one nested on another) really build and push through the CLI, then are skipped.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  docker,
  FLYTEKIT_VERSION,
  skipWithoutEngine,
  TEST_LABEL,
  useBuildEnv,
} from '@imagespec/test-utils'
import { runCli } from './_cli.js'

const EXAMPLE = resolve(fileURLToPath(new URL('../../../examples/flyte-project', import.meta.url)))

describe.skipIf(await skipWithoutEngine())('a Flyte project from its Python sources', () => {
  const e = useBuildEnv({
    prefix: 'imagespec-pyproject-',
    wheels: [
      {
        name: 'imagespec-py-dep',
        version: '1.0.0',
        files: { 'py_dep/__init__.py': 'GREETING = "hello from a scanned spec"\n' },
      },
    ],
  })
  const RUN_ID = e.runId

  it('the example project: scan finds its five images; build --dry-run shows each distinct image once, the base first', async () => {
    const env = { REGISTRY: e.registry.host, IMAGESPEC_FLYTEKIT_VERSION: FLYTEKIT_VERSION }
    const scan = await runCli(['scan', '--json', '.'], { cwd: EXAMPLE, env })
    expect(scan.code, scan.stderr).toBe(0)
    const { specs, skipped } = JSON.parse(scan.stdout)
    expect(skipped).toEqual([])
    expect(
      specs.map((s: { file: string; variable: string | null }) => `${s.file} ${s.variable}`),
    ).toEqual([
      'workflows/etl.py etl_image',
      'workflows/images.py base_image',
      'workflows/images.py trainer_image',
      'workflows/images.py report_image',
      'workflows/training.py null',
    ])
    expect(specs[4].spec.apt_packages).toEqual(['git', 'graphviz'])
    expect(specs[4].spec.packages).toEqual([
      'pandas==2.2.3',
      'pyarrow==17.0.0',
      'scikit-learn==1.5.2',
      'joblib',
    ])

    const names = JSON.parse(
      (await runCli(['name', '--json', '.'], { cwd: EXAMPLE, env })).stdout,
    ) as { image_name: string }[]
    const dry = await runCli(['build', '--dry-run', '.'], { cwd: EXAMPLE, env })
    expect(dry.code, dry.stderr).toBe(0)
    const images = [...dry.stdout.matchAll(/^Image: (.*)$/gm)].map((m) => m[1])
    // etl first (file order); the base before the report built on it; the base appears once.
    expect(images).toEqual(
      [names[0], names[1], names[2], names[3], names[4]].map((n) => n.image_name),
    )
    expect(new Set(images).size).toBe(5)
    expect(dry.stdout.match(/Would build: yes/g)).toHaveLength(5)
    expect(dry.stdout).toContain(`FROM ${names[1].image_name}\n`) // the report image is built FROM the base
    expect(dry.stdout).toContain('requirements') // etl_image's requirements.txt, relative to the project root
    const reportIdx = images.indexOf(names[3].image_name)
    expect(images.indexOf(names[1].image_name)).toBeLessThan(reportIdx)
  })

  it('builds every image of a project once, nested base first; a second build skips them all', async () => {
    const dir = join(e.work, 'proj')
    mkdirSync(dir)
    writeFileSync(
      join(dir, 'wf.py'),
      `import os
from flytekit import ImageSpec, task

REGISTRY = os.environ["REGISTRY"]
COMMON = {"installer": "pip"}
PIP_ARGS = "--trusted-host 127.0.0.1"

base = ImageSpec(
    name="py-e2e-base", registry=REGISTRY, base_image=os.environ["BASE"], python_version="3.11",
    packages=["imagespec-py-dep"], pip_index=os.environ["INDEX"], pip_extra_args=PIP_ARGS, builder_options=COMMON,
)
child = ImageSpec(
    name="py-e2e-child", registry=REGISTRY, base_image=base, python_version="3.11",
    pip_index=os.environ["INDEX"], pip_extra_args=PIP_ARGS, builder_options=COMMON,
    commands=["python -c 'import py_dep; print(py_dep.GREETING)' > /tmp/greeting"],
)

@task(container_image=base)
def t() -> None: ...

@task(container_image=child)
def u() -> None: ...
`,
    )
    const env = {
      REGISTRY: e.registry.host,
      BASE: e.base,
      INDEX: e.index.url,
      IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
      IMAGESPEC_BUILD_NETWORK: 'host',
      IMAGESPEC_FLYTEKIT_VERSION: FLYTEKIT_VERSION,
      TMPDIR: join(e.work, 'tmp'),
    }
    const named = await runCli(['name', '--json', 'wf.py'], { cwd: dir, env })
    expect(named.code, named.stderr).toBe(0)
    const names = JSON.parse(named.stdout) as { image_name: string; variable: string }[]
    const [baseName, childName] = names.map((n) => n.image_name)
    expect(names.map((n) => n.variable)).toEqual(['base', 'child'])

    const first = await runCli(
      ['build', '.', '--progress', 'plain', '--label', `${TEST_LABEL}=${RUN_ID}`],
      { cwd: dir, env },
    )
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr.split(`pushed ${baseName}`)).toHaveLength(2) // the base is built and pushed once
    expect(first.stderr.indexOf(`pushed ${baseName}`)).toBeLessThan(
      first.stderr.indexOf(`pushed ${childName}`),
    )
    expect(first.stderr).toContain(`built   ${baseName}\nbuilt   ${childName}\n`)
    // The child really is FROM the base and ran its command against the base's package.
    expect(
      docker(
        'run',
        '--rm',
        '--label',
        `${TEST_LABEL}=${RUN_ID}`,
        childName,
        'cat',
        '/tmp/greeting',
      ).trim(),
    ).toBe('hello from a scanned spec')
    expect((await runCli(['exists', 'wf.py'], { cwd: dir, env })).code).toBe(0)

    const second = await runCli(['build', 'wf.py', '--progress', 'plain'], { cwd: dir, env })
    expect(second.code, second.stderr).toBe(0)
    expect(second.stderr).not.toContain('pushed')
    expect(second.stdout).toContain(`Image ${baseName} found. Skip building.`)
    expect(second.stdout).toContain(`Image ${childName} found. Skip building.`)
    expect(second.stderr).toContain(`exists  ${baseName}\nexists  ${childName}\n`)
  })
})
