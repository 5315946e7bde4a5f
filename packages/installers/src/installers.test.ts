import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import { normalizeSpec, type ImageSpec } from '@imagespec/spec'
import {
  flytekitRequirement,
  isFlytekit,
  normalizeFlytekitVersion,
  planPackages,
  planPython,
  resolveInstallerSettings,
  type InstallerContext,
} from './index.js'

const cwd = useTempDir('installers-')
const spec = (input: Record<string, unknown>): ImageSpec =>
  normalizeSpec({ name: 't', python_version: '3.12', ...input })
function ctx(
  over: Partial<InstallerContext> = {},
): InstallerContext & { warnings: string[]; log: string[] } {
  const warnings: string[] = []
  const log: string[] = []
  return {
    cwd,
    flytekitVersion: '1.16.24',
    defaultPythonVersion: '3.11',
    warn: (m) => warnings.push(m),
    logger: { debug: (m) => log.push(m) },
    warnings,
    log,
    ...over,
  }
}

describe('get_flytekit_for_pypi / _is_flytekit', () => {
  it('pins the configured version unless it is empty or a dev version', () => {
    expect(flytekitRequirement('1.16.24')).toBe('flytekit==1.16.24')
    expect(flytekitRequirement('1.16.0b1')).toBe('flytekit==1.16.0b1')
    expect(flytekitRequirement('1.17.0.dev3+g1234')).toBe('flytekit')
    expect(flytekitRequirement('0.0.0+develop')).toBe('flytekit')
    expect(flytekitRequirement('')).toBe('flytekit')
  })

  it.each([
    ['flytekit', true],
    ['flytekit==1.2', true],
    ['flytekit>=1.12', true],
    ['flytekit[all]', true],
    ['flytekit.x', true],
    ['Flytekit', false],
    ['flytekitplugins-pod', false],
    ['flytekit_x', false],
    [' flytekit', false],
    ['git+https://x/flytekit', false],
  ])('isFlytekit(%j) is %s', (req, want) => expect(isFlytekit(req)).toBe(want))

  it('normalises and validates the configured version', () => {
    expect(normalizeFlytekitVersion('v1.2.3')).toBe('1.2.3')
    expect(normalizeFlytekitVersion(' 1.16.0b1 ')).toBe('1.16.0b1')
    expect(normalizeFlytekitVersion('1.17.0.dev3+g1234')).toBe('1.17.0.dev3+g1234')
    expect(() => normalizeFlytekitVersion('1.2 && rm')).toThrow(/Invalid flytekit version/)
    expect(resolveInstallerSettings({ IMAGESPEC_FLYTEKIT_VERSION: '1.15.0' })).toEqual({
      flytekitVersion: '1.15.0',
      pipBaseImage: 'python:{python_version}-slim',
    })
    expect(resolveInstallerSettings({})).toEqual({
      flytekitVersion: '1.16.24',
      pipBaseImage: 'python:{python_version}-slim',
    })
  })
})

describe('uv with requirements', () => {
  it('writes the file lines (stripped, blank and comment lines kept), packages and the pin, no trailing newline', () => {
    writeFileSync(path.join(cwd, 'requirements.txt'), '  numpy \n\n# comment\r\n-r other.txt\n')
    const plan = planPackages(
      spec({ requirements: 'requirements.txt', packages: ['pandas'] }),
      ctx(),
    )
    expect(plan.installer).toBe('uv-pip')
    expect(plan.files).toEqual([
      {
        path: 'requirements_uv.txt',
        content: 'numpy\n\n# comment\n-r other.txt\npandas\nflytekit==1.16.24',
      },
    ])
  })

  it('does not append flytekit when an entry names it', () => {
    const plan = planPackages(spec({ packages: ['flytekit>=1.12.3'] }), ctx())
    expect(plan.files[0].content).toBe('flytekit>=1.12.3')
  })

  it('logs every attempt by name and picks the venv variant for python_exec', () => {
    const c = ctx()
    expect(planPackages(spec({ python_exec: '/usr/bin/python3' }), c).installer).toBe('uv-venv')
    expect(c.log).toEqual([
      'installer pip: not applicable',
      'installer uv-lock: not applicable',
      'installer poetry-lock: not applicable',
      'installer uv-venv: selected (python_exec is set)',
    ])
  })

  it('numbers secret mounts secret_0, secret_1 and quotes index URLs with shell characters', () => {
    const plan = planPackages(
      spec({
        pip_index: 'https://x/simple?a=1&b=2',
        pip_secret_mounts: [
          ['.netrc', '/root/.netrc'],
          ['tok', '/run/tok'],
        ],
      }),
      ctx(),
    )
    expect(plan.secrets).toEqual([
      { id: 'secret_0', src: '.netrc', target: '/root/.netrc' },
      { id: 'secret_1', src: 'tok', target: '/run/tok' },
    ])
    expect(JSON.stringify(plan.steps)).toContain(
      "uv pip install --index-url 'https://x/simple?a=1&b=2' --requirement requirements_uv.txt",
    )
  })
})

describe('lock files', () => {
  it('uv.lock warns before the packages check', () => {
    const c = ctx()
    expect(() => planPackages(spec({ requirements: 'uv.lock', packages: [] }), c)).toThrow(
      'Support for uv.lock files and packages is mutually exclusive',
    )
    expect(c.warnings).toEqual(['uv.lock support is experimental'])
  })

  it("poetry.lock places the lock then pyproject.toml (with flytekit's message if missing)", () => {
    const plan = planPackages(spec({ requirements: 'app/poetry.lock' }), ctx())
    expect(plan.installer).toBe('poetry-lock')
    expect(plan.files).toEqual([
      { path: 'poetry.lock', source: path.join(cwd, 'app/poetry.lock') },
      {
        path: 'pyproject.toml',
        source: path.join(cwd, 'app/pyproject.toml'),
        missingMessage:
          'To use poetry.lock, a pyproject.toml file must be in the same directory as the lock file',
      },
    ])
  })
})

describe("python_exec with a lock file (flytekit's UV_PYTHON points at a venv nothing creates)", () => {
  const lockSpec = (lock: string) =>
    spec({ requirements: lock, python_exec: '/usr/bin/python3.11' })
  const commands = (plan: { steps: unknown[] }) =>
    plan.steps.flatMap((s) =>
      (s as { kind: string }).kind === 'run' ? [(s as { command: string[] }).command] : [],
    )

  it('uv.lock: creates /root/.venv from python_exec before uv sync', () => {
    expect(commands(planPackages(lockSpec('uv.lock'), ctx()))).toEqual([
      [
        'uv venv --python /usr/bin/python3.11 --system-site-packages /root/.venv &&',
        'uv sync --locked --no-dev --no-install-project &&',
        'chown -R flytekit /root/.venv',
      ],
    ])
  })

  it('poetry.lock: poetry in its own venv from python_exec, the project venv created before poetry install', () => {
    const plan = planPackages(lockSpec('app/poetry.lock'), ctx())
    expect(commands(plan)).toEqual([
      [
        'uv venv --python /usr/bin/python3.11 /opt/poetry &&',
        'uv pip install --python /opt/poetry/bin/python poetry',
      ],
      [
        'uv venv --python /usr/bin/python3.11 --system-site-packages /root/.venv &&',
        '/opt/poetry/bin/poetry install --no-root &&',
        'chown -R flytekit /root/.venv',
      ],
    ])
    const install = plan.steps.filter((s) => s.kind === 'run')[1] as { mounts: { type: string }[] }
    expect(install.mounts.map((m) => m.type)).toEqual(['cache', 'from', 'bind', 'bind'])
  })

  it("without python_exec the lock plans stay flytekit's", () => {
    expect(commands(planPackages(spec({ requirements: 'uv.lock' }), ctx()))).toEqual([
      ['uv sync --locked --no-dev --no-install-project &&', 'chown -R flytekit /root/.venv'],
    ])
    expect(commands(planPackages(spec({ requirements: 'app/poetry.lock' }), ctx()))[0]).toEqual([
      'uv pip install poetry',
    ])
  })
})

describe('pip installer (builder_options.installer = "pip")', () => {
  const pipSpec = (input: Record<string, unknown> = {}) =>
    spec({ builder_options: { installer: 'pip' }, packages: ['requests'], ...input })

  it('needs no helper image and installs into a venv made from python3', () => {
    const plan = planPackages(
      pipSpec({ pip_extra_index_url: ['http://127.0.0.1:8080/simple'] }),
      ctx(),
    )
    expect(plan).toMatchObject({ installer: 'pip', stages: [], commandMounts: [] })
    expect(plan.files).toEqual([
      { path: 'requirements_pip.txt', content: 'requests\nflytekit==1.16.24' },
    ])
    expect(plan.steps[1]).toMatchObject({
      kind: 'run',
      command: [
        'python3 -m venv --system-site-packages /root/.venv &&',
        '/root/.venv/bin/python -m pip install --extra-index-url http://127.0.0.1:8080/simple --requirement requirements_pip.txt &&',
        'chown -R flytekit /root/.venv',
      ],
    })
    expect(planPython(pipSpec(), ctx())).toMatchObject({
      provider: 'system-python',
      stages: [],
      python: '/root/.venv/bin/python',
    })
  })

  it('without base_image names a Python base (python:<version>-slim); with one, warns when its Python differs', () => {
    const c = ctx()
    expect(planPython(pipSpec({ python_version: '3.12' }), c).defaultBaseImage).toBe(
      'python:3.12-slim',
    )
    expect(planPython(pipSpec({ python_version: null }), c).defaultBaseImage).toBe(
      'python:3.11-slim',
    )
    expect(
      planPython(pipSpec({ python_version: '3.12' }), {
        ...c,
        pipBaseImage: 'localhost:5000/py:{python_version}',
      }).defaultBaseImage,
    ).toBe('localhost:5000/py:3.12')
    expect(c.warnings).toEqual([])
    expect(
      planPython(pipSpec({ python_version: '3.12', base_image: 'python:3.12.4-slim' }), c)
        .defaultBaseImage,
    ).toBeUndefined()
    expect(
      planPython(
        pipSpec({
          python_version: '3.12',
          base_image: 'localhost:5000/imagespec/python-base:3.11',
        }),
        c,
      ),
    ).toBeDefined()
    planPython(pipSpec({ python_version: '3.12', base_image: 'debian:bookworm' }), c)
    expect(c.warnings).toEqual([
      'base_image "localhost:5000/imagespec/python-base:3.11" has Python 3.11, but python_version is "3.12": the pip installer uses the base image\'s Python 3.11',
      'python_version "3.12" is not provisioned by the pip installer: the Python of base_image "debian:bookworm" is used',
    ])
    expect(() => planPython(pipSpec({ python_version: '3 && x' }), ctx())).toThrow(
      expect.objectContaining({ code: 'E_SPEC_INVALID' }),
    )
    expect(
      resolveInstallerSettings({ IMAGESPEC_PIP_BASE_IMAGE: 'r/py:{python_version}' }).pipBaseImage,
    ).toBe('r/py:{python_version}')
  })

  it('uses python_exec as the base interpreter', () => {
    expect(
      JSON.stringify(
        planPackages(pipSpec({ python_exec: '/usr/local/bin/python3.11' }), ctx()).steps,
      ),
    ).toContain('/usr/local/bin/python3.11 -m venv')
  })

  it('refuses poetry.lock, conda and unknown installers', () => {
    expect(() =>
      planPackages(pipSpec({ requirements: 'poetry.lock', packages: null }), ctx()),
    ).toThrow(expect.objectContaining({ code: 'E_INSTALLER_UNSUPPORTED' }))
    // uv.lock is read ahead by the context (lockProject); without it the lock cannot be read
    expect(() => planPackages(pipSpec({ requirements: 'uv.lock', packages: null }), ctx())).toThrow(
      expect.objectContaining({ code: 'E_CONTEXT' }),
    )
    expect(() => planPython(pipSpec({ conda_packages: ['numpy'] }), ctx())).toThrow(
      'conda_packages is not supported with the pip installer',
    )
    expect(() => planPackages(spec({ builder_options: { installer: 'conda' } }), ctx())).toThrow(
      expect.objectContaining({ code: 'E_INSTALLER_NOT_FOUND' }),
    )
  })
})

describe('python providers', () => {
  it('micromamba: python version (default when unset), channels and quoted conda packages', () => {
    const plan = planPython(
      spec({
        python_version: null,
        conda_channels: ['nvidia'],
        conda_packages: ['numpy>=1.2', 'scipy'],
      }),
      ctx(),
    )
    expect(plan.provider).toBe('micromamba')
    const run = plan.steps[0] as { command: string[] }
    expect(run.command[2]).toBe('-c conda-forge -c nvidia')
    expect(run.command[3]).toBe("python=3.11 'numpy>=1.2' scipy")
  })

  it('python_exec: conda_channels is checked before conda_packages', () => {
    expect(() =>
      planPython(
        spec({ python_exec: '/usr/bin/python3', conda_channels: ['x'], conda_packages: ['y'] }),
        ctx(),
      ),
    ).toThrow('conda_channels is not supported with python_exec')
  })

  it('builder_config: a null helper image takes the default with a warning (flytekit writes FROM None); a non-string is refused', () => {
    const c = ctx()
    const s = spec({ builder_config: { uv_image: null, micromamba_image: null } })
    expect(planPackages(s, c).stages).toEqual([
      { image: 'ghcr.io/astral-sh/uv:0.5.1', alias: 'uv' },
    ])
    expect(planPython(s, c).stages).toEqual([
      { image: 'mambaorg/micromamba:2.0.3-debian12-slim', alias: 'micromamba' },
    ])
    expect(c.warnings).toEqual([
      'builder_config.uv_image is None: the default image ghcr.io/astral-sh/uv:0.5.1 is used (flytekit would write "FROM None", which cannot build)',
      'builder_config.micromamba_image is None: the default image mambaorg/micromamba:2.0.3-debian12-slim is used (flytekit would write "FROM None", which cannot build)',
    ])
    expect(() => planPackages(spec({ builder_config: { uv_image: 5 } }), ctx())).toThrow(
      expect.objectContaining({
        code: 'E_SPEC_INVALID',
        message:
          'builder_config.uv_image: must be an image name such as ghcr.io/astral-sh/uv:0.5.1',
      }),
    )
  })

  it('builder_config overrides the helper images', () => {
    const s = spec({ builder_config: { uv_image: 'local/uv:1', micromamba_image: 'local/mm:2' } })
    expect(planPython(s, ctx()).stages).toEqual([{ image: 'local/mm:2', alias: 'micromamba' }])
    expect(planPackages(s, ctx()).stages).toEqual([{ image: 'local/uv:1', alias: 'uv' }])
  })
})
