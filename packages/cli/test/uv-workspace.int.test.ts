// A uv workspace built for real (issue 11 item 9): the root project depends on a workspace member, which depends on
// a package from the local index. With builder_options {installer: pip, install_project: true} the image gets the
// lock's pins, the member and the project itself, all importable. (No uv binary exists offline, so the uv installer's
// rendering of the same project is covered by unit tests only.) Editing a member changes the tag.
import { appendFileSync, cpSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { docker, skipWithoutEngine, TEST_LABEL, useBuildEnv } from '@imagespec/test-utils'
import { buildProject, runCli } from './_cli.js'

const FIXTURE = resolve(
  fileURLToPath(new URL('../../../tools/fixtures/uv-workspace', import.meta.url)),
)

describe.skipIf(await skipWithoutEngine())('a uv workspace and its project, installed', () => {
  const e = useBuildEnv({
    prefix: 'imagespec-uvws-',
    wheels: [
      {
        name: 'imagespec-py-dep',
        version: '1.0.0',
        files: { 'py_dep/__init__.py': 'GREETING = "hello from the index"\n' },
      },
    ],
  })
  const RUN_ID = e.runId

  it('installs the workspace member and the project itself; the image imports both; a member edit changes the tag', async () => {
    const dir = join(e.work, 'proj')
    cpSync(FIXTURE, dir, { recursive: true })
    writeFileSync(
      join(dir, 'imagespec.yaml'),
      [
        'name: uv-workspace',
        `registry: ${e.registry.host}`,
        `base_image: ${e.base}`,
        'python_version: "3.11"',
        'requirements: uv.lock',
        `pip_index: ${e.index.url}`,
        // setuptools comes from the base image (the local index has none), so the builds are not isolated
        'pip_extra_args: --trusted-host 127.0.0.1 --no-build-isolation',
        'builder_options: {installer: pip, install_project: true}',
      ].join('\n') + '\n',
    )
    const env = {
      IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
      IMAGESPEC_BUILD_NETWORK: 'host',
      TMPDIR: join(e.work, 'tmp'),
    }
    const { imageName } = await buildProject(dir, {
      label: `${TEST_LABEL}=${RUN_ID}`,
      tmp: env.TMPDIR,
    })

    const out = docker(
      'run',
      '--rm',
      '--label',
      `${TEST_LABEL}=${RUN_ID}`,
      imageName,
      'python',
      '-c',
      'import ws_root, ws_member, importlib.metadata as m; print(ws_root.ROOT, "|", ws_member.MEMBER, "|", m.version("imagespec-ws-root"), m.version("imagespec-ws-member"), m.version("imagespec-py-dep"), "|", ws_root.__file__)',
    ).trim()
    const [root, member, versions, file] = out.split(' | ')
    expect(root).toBe('the project itself')
    expect(member).toBe('a workspace member: hello from the index')
    expect(versions).toBe('0.1.0 0.1.0 1.0.0')
    expect(file).toMatch(
      /^\/root\/\.venv\/lib\/python3\.\d+\/site-packages\/ws_root\/__init__\.py$/,
    ) // installed, not a link to the build mount

    // The tag covers the members' files: an edit gives another image name (flytekit cannot build a workspace).
    appendFileSync(join(dir, 'packages/member/ws_member/__init__.py'), '# edited\n')
    const renamed = JSON.parse(
      (await runCli(['name', '--json', 'imagespec.yaml'], { cwd: dir, env })).stdout,
    ) as { image_name: string }
    expect(renamed.image_name).not.toBe(imageName)
  })
})
