// A poetry project built for real (issue 11 items 9 and 11): `requirements: poetry.lock` with `python_exec` and
// `builder_options: {install_project: true}`, through the default (uv family) installer's Dockerfile. The lock is made
// here by the base image's poetry (Debian's python3-poetry) against the local package index; the build installs the
// locked dependency, then the project's own wheel, and the image imports both from the venv made from python_exec.
//
// No uv binary can be fetched offline, so the helper image (`builder_config.uv_image`, also used as
// `micromamba_image`: python_exec takes only its CA bundle) is a stand-in built here from the base image: its `/uv` does
// the three uv commands this Dockerfile runs with the base image's tools (`uv venv` -> `python -m venv`,
// `uv pip install` -> `pip install`, and `uv pip install poetry` links the base image's poetry, which the local index
// does not serve). What this proves is the Dockerfile's order and the poetry steps; uv's own behaviour is not tested.
import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { docker, skipWithoutEngine, TEST_LABEL, useBuildEnv } from '@imagespec/test-utils'
import { buildProject } from './_cli.js'

const UV_STAND_IN = `#!/usr/bin/python3
import os, sys
args = sys.argv[1:]
def option(name):
    if name not in args:
        return None
    i = args.index(name)
    value = args[i + 1]
    del args[i : i + 2]
    return value
python = option('--python') or 'python3'
if args[:1] == ['venv']:
    os.execv(python, [python, '-m', 'venv', *args[1:]])
if args[:2] == ['pip', 'install'] and args[2:] == ['poetry']:
    os.symlink('/usr/bin/poetry', os.path.join(os.path.dirname(python), 'poetry'))
    sys.exit(0)
if args[:2] == ['pip', 'install']:
    os.execv(python, [python, '-m', 'pip', 'install', '--no-index', *args[2:]])
sys.exit('uv stand-in: not supported: ' + ' '.join(sys.argv[1:]))
`

describe.skipIf(await skipWithoutEngine())(
  'a poetry project with install_project and python_exec',
  () => {
    const e = useBuildEnv({
      prefix: 'imagespec-poetry-',
      wheels: [
        {
          name: 'imagespec-poetry-dep',
          version: '1.0.0',
          files: { 'poetry_dep/__init__.py': 'GREETING = "hello from the lock"\n' },
        },
        {
          // a newer version the lock must not pick up
          name: 'imagespec-poetry-dep',
          version: '2.0.0',
          files: { 'poetry_dep/__init__.py': 'GREETING = "not locked"\n' },
        },
      ],
    })
    const RUN_ID = e.runId

    /** The uv stand-in image, pushed to the test's registry (the build's FROM pulls it from there). */
    function uvStandIn(): string {
      const dir = join(e.work, 'uv-stand-in')
      mkdirSync(dir)
      writeFileSync(join(dir, 'uv'), UV_STAND_IN)
      chmodSync(join(dir, 'uv'), 0o755)
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${e.base}\nCOPY uv /uv\n`)
      const ref = `${e.registry.host}/uv-stand-in:${RUN_ID}`
      docker('build', '--quiet', '--label', `${TEST_LABEL}=${RUN_ID}`, '--tag', ref, dir)
      docker('push', ref)
      return ref
    }

    it('installs the locked dependency, then the project itself; the image imports both from the python_exec venv', async () => {
      const helper = uvStandIn()
      const dir = join(e.work, 'proj')
      mkdirSync(join(dir, 'poetry_app'), { recursive: true })
      writeFileSync(join(dir, 'poetry_app/__init__.py'), 'NAME = "the project itself"\n')
      writeFileSync(
        join(dir, 'pyproject.toml'),
        [
          '[tool.poetry]',
          'name = "imagespec-poetry-app"',
          'version = "0.3.0"',
          'description = ""',
          'authors = ["imagespec <test@example.invalid>"]',
          'packages = [{ include = "poetry_app" }]',
          '',
          '[tool.poetry.dependencies]',
          'python = "^3.11"',
          'imagespec-poetry-dep = "<2"',
          '',
          '[[tool.poetry.source]]',
          'name = "local"',
          `url = "${e.index.url}"`,
          'default = true',
          '',
          '[build-system]',
          'requires = ["poetry-core"]',
          'build-backend = "poetry.core.masonry.api"',
        ].join('\n') + '\n',
      )
      // poetry.lock, written by the base image's poetry from the local index (asynchronously: the index answers from
      // this process)
      await promisify(execFile)('/usr/bin/docker', [
        ...['run', '--rm', '--network', 'host', '--label', `${TEST_LABEL}=${RUN_ID}`],
        ...['-v', `${dir}:/p`, '-w', '/p', e.base, 'poetry', 'lock', '--no-interaction'],
      ])
      writeFileSync(
        join(dir, 'imagespec.yaml'),
        [
          'name: poetry-app',
          `registry: ${e.registry.host}`,
          `base_image: ${e.base}`,
          'python_exec: /usr/bin/python3',
          'requirements: poetry.lock',
          `builder_config: {uv_image: "${helper}", micromamba_image: "${helper}"}`,
          'builder_options: {install_project: true}',
        ].join('\n') + '\n',
      )
      e.index.requests.length = 0
      const built = await buildProject(dir, {
        label: `${TEST_LABEL}=${RUN_ID}`,
        tmp: join(e.work, 'tmp'),
      })
      const { imageName } = built
      expect(built.stderr).toContain('builder_options.install_project: the project in')
      // the locked version came from the index during the build, the newer one was never fetched
      expect(e.index.requests).toContain('/files/imagespec_poetry_dep-1.0.0-py3-none-any.whl')
      expect(e.index.requests).not.toContain('/files/imagespec_poetry_dep-2.0.0-py3-none-any.whl')

      const out = docker(
        ...['run', '--rm', '--label', `${TEST_LABEL}=${RUN_ID}`, imageName, 'python', '-c'],
        [
          'import sys, poetry_app, poetry_dep, importlib.metadata as m',
          'print(poetry_app.NAME, poetry_dep.GREETING, m.version("imagespec-poetry-app"), m.version("imagespec-poetry-dep"), sys.prefix, sys.base_prefix, poetry_app.__file__, sep=" | ")',
        ].join('; '),
      ).trim()
      expect(out.split(' | ')).toEqual([
        'the project itself',
        'hello from the lock',
        '0.3.0',
        '1.0.0',
        '/root/.venv',
        '/usr', // the venv was made from python_exec (/usr/bin/python3)
        // installed from the project's wheel, not an editable link to the build's mount
        expect.stringMatching(
          /^\/root\/\.venv\/lib\/python3\.\d+\/site-packages\/poetry_app\/__init__\.py$/,
        ),
      ])
    })
  },
)
