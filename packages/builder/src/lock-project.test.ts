// uv workspaces and builder_options.install_project (issue 11 item 9): what the context holds and the Dockerfile
// runs, for uv, poetry and the pip installer. flytekit's own lock-file installs are pinned by the vectors (06, 07).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { specFromObject } from '@imagespec/spec'
import { createContextPlan } from './context.js'

const FIXTURE = fileURLToPath(new URL('../../../tools/fixtures/uv-workspace', import.meta.url))
const scratch = mkdtempSync(path.join(tmpdir(), 'lockproj-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function project(name: string): string {
  const dir = path.join(scratch, name)
  cpSync(FIXTURE, dir, { recursive: true })
  return dir
}
const load = (cwd: string, input: Record<string, unknown>) =>
  specFromObject(
    { name: 'ws', python_version: '3.11', requirements: 'uv.lock', ...input },
    { cwd, env: {}, machine: 'x86_64' },
  )
const run = (dockerfile: string, needle: string) =>
  dockerfile.split('\n').find((l) => l.startsWith('RUN') && l.includes(needle))

describe('uv workspaces', () => {
  it("mounts the members' pyproject.toml for the locked dependencies, then installs the members from their sources", async () => {
    const plan = await createContextPlan(load(project('ws'), {}))
    expect(plan.files.map((f) => f.path)).toEqual([
      'uv.lock',
      'pyproject.toml',
      '.imagespec-project/packages/member/pyproject.toml',
      '.imagespec-project/packages/member/ws_member/__init__.py',
      '.imagespec-project/pyproject.toml',
      '.imagespec-project/uv.lock',
    ])
    expect(run(plan.dockerfile, '--no-install-workspace')).toContain(
      '--mount=type=bind,target=packages/member/pyproject.toml,src=.imagespec-project/packages/member/pyproject.toml          uv sync --locked --no-dev --no-install-project --no-install-workspace &&',
    )
    expect(run(plan.dockerfile, 'UV_PROJECT_ENVIRONMENT')).toBe(
      'RUN --mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv     --mount=from=uv,source=/uv,target=/usr/bin/uv     --mount=type=bind,target=/tmp/imagespec-project,src=.imagespec-project,rw     cd /tmp/imagespec-project &&     UV_PROJECT_ENVIRONMENT=/root/.venv uv sync --locked --no-dev --no-editable --no-install-project &&     chown -R flytekit /root/.venv',
    )
    expect(plan.warnings).toEqual(['uv.lock support is experimental'])
    await expect(plan.dockerfile).toMatchFileSnapshot('__snapshots__/uv-workspace.Dockerfile')
  })

  it('install_project: the whole project is in the context and uv sync installs it (not editable)', async () => {
    const plan = await createContextPlan(
      load(project('ws-project'), { builder_options: { install_project: true } }),
    )
    expect(plan.files.map((f) => f.path)).toContain('.imagespec-project/ws_root/__init__.py')
    expect(run(plan.dockerfile, 'UV_PROJECT_ENVIRONMENT')).toContain(
      'uv sync --locked --no-dev --no-editable &&',
    )
    expect(plan.warnings).toEqual(['uv.lock support is experimental']) // a workspace's tag covers the files
  })

  it("a single project without install_project renders flytekit's Dockerfile unchanged", async () => {
    const dir = project('single')
    const plain = await createContextPlan(load(dir, {}))
    writeFileSync(
      path.join(dir, 'uv.lock'),
      readFileSync(path.join(dir, 'uv.lock'), 'utf8').replace(
        /\[manifest\][\s\S]*?(?=\[\[package\]\])/,
        '',
      ),
    )
    const single = await createContextPlan(load(dir, {}))
    expect(single.files.map((f) => f.path)).toEqual(['uv.lock', 'pyproject.toml'])
    expect(single.dockerfile).not.toContain('imagespec-project')
    expect(single.dockerfile).toContain('uv sync --locked --no-dev --no-install-project &&')
    expect(plain.dockerfile).not.toBe(single.dockerfile)
    const withProject = await createContextPlan(
      load(dir, { builder_options: { install_project: true } }),
    )
    expect(withProject.warnings[1]).toMatch(
      /^builder_options\.install_project: the project in ".*" is installed, but the tag stays flytekit's, which hashes only uv\.lock/,
    )
    // the locked dependencies as flytekit installs them, then the project from its sources
    expect(withProject.dockerfile).toContain('uv sync --locked --no-dev --no-install-project &&')
    expect(withProject.dockerfile).not.toContain('--no-install-workspace')
    expect(run(withProject.dockerfile, 'UV_PROJECT_ENVIRONMENT')).toContain(
      'cd /tmp/imagespec-project &&     UV_PROJECT_ENVIRONMENT=/root/.venv uv sync --locked --no-dev --no-editable &&',
    )
  })

  it('python_exec in a workspace with install_project: the venv is made from python_exec before the first uv sync', async () => {
    const plan = await createContextPlan(
      load(project('ws-exec'), {
        python_exec: '/usr/bin/python3',
        builder_options: { install_project: true },
      }),
    )
    const steps = plan.dockerfile
      .split('\n')
      .filter((l) => l.startsWith('RUN') && l.includes('uv sync'))
    expect(steps).toHaveLength(2)
    expect(steps[0]).toMatch(
      /uv venv --python \/usr\/bin\/python3 --system-site-packages \/root\/\.venv &&\s+uv sync --locked --no-dev --no-install-project --no-install-workspace &&/,
    )
    expect(steps[1]).toContain(
      'UV_PROJECT_ENVIRONMENT=/root/.venv uv sync --locked --no-dev --no-editable &&',
    )
    expect(plan.dockerfile).toContain('UV_PYTHON=/root/.venv/bin/python')
    expect(plan.dockerfile).not.toContain('micromamba create')
  })

  it('the pip installer: lock pins as constraints, the members and the project from their sources', async () => {
    const dir = project('pip')
    const plan = await createContextPlan(
      load(dir, {
        builder_options: { installer: 'pip', install_project: true },
        pip_index: 'http://127.0.0.1:1/simple',
      }),
    )
    const content = (p: string) => plan.files.find((f) => f.path === p)?.content
    expect(content('uv_constraints.txt')).toBe('imagespec-py-dep==1.0.0')
    expect(content('requirements_pip.txt')).toBe(
      '/tmp/imagespec-project/packages/member\n/tmp/imagespec-project',
    )
    expect(run(plan.dockerfile, 'pip install')).toBe(
      'RUN --mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/pip,id=pip     --mount=type=bind,target=requirements_pip.txt,src=requirements_pip.txt     --mount=type=bind,target=uv_constraints.txt,src=uv_constraints.txt     --mount=type=bind,target=/tmp/imagespec-project,src=.imagespec-project,rw     python3 -m venv --system-site-packages /root/.venv &&     /root/.venv/bin/python -m pip install --index-url http://127.0.0.1:1/simple --constraint uv_constraints.txt --requirement requirements_pip.txt &&     chown -R flytekit /root/.venv',
    )
    // without install_project: the members the root needs, then the root's other dependencies by name
    const deps = await createContextPlan(load(dir, { builder_options: { installer: 'pip' } }))
    expect(deps.files.find((f) => f.path === 'requirements_pip.txt')?.content).toBe(
      '/tmp/imagespec-project/packages/member',
    )
  })

  it('install_project without a lock file is ignored with a warning; a non-boolean value is refused', async () => {
    const dir = project('reqs')
    writeFileSync(path.join(dir, 'requirements.txt'), 'requests\n')
    const plan = await createContextPlan(
      load(dir, { requirements: 'requirements.txt', builder_options: { install_project: true } }),
    )
    expect(plan.warnings).toEqual([
      'builder_options.install_project applies to requirements: uv.lock or poetry.lock only; it is ignored here',
    ])
    await expect(
      createContextPlan(
        load(dir, { requirements: 'requirements.txt', builder_options: { install_project: 1 } }),
      ),
    ).rejects.toMatchObject({
      code: 'E_SPEC_INVALID',
    })
  })

  it('poetry install_project builds the project into a wheel and installs it into the venv', async () => {
    const dir = project('poetry')
    writeFileSync(path.join(dir, 'poetry.lock'), '# poetry lock\n')
    const plan = await createContextPlan(
      load(dir, { requirements: 'poetry.lock', builder_options: { install_project: true } }),
    )
    expect(plan.files.map((f) => f.path).slice(0, 3)).toEqual([
      'poetry.lock',
      'pyproject.toml',
      '.imagespec-project/README.md',
    ])
    expect(run(plan.dockerfile, 'poetry build')).toBe(
      'RUN --mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv     --mount=from=uv,source=/uv,target=/usr/bin/uv     --mount=type=bind,target=/tmp/imagespec-project,src=.imagespec-project,rw     cd /tmp/imagespec-project &&     rm -rf dist &&     poetry build --format wheel &&     uv pip install --python /root/.venv/bin/python --no-deps dist/*.whl &&     chown -R flytekit /root/.venv',
    )
    expect(plan.warnings).toEqual([expect.stringMatching(/hashes only poetry\.lock/)])
    const plain = await createContextPlan(load(dir, { requirements: 'poetry.lock' }))
    expect(plain.dockerfile).not.toContain('imagespec-project')
  })
})
