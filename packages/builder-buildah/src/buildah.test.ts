import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import { createEngine } from '@imagespec/builder'
import {
  isBuilderPlugin,
  loadSpec,
  type BuildRequest,
  type BuildContextPlan,
} from '@imagespec/spec'
import buildah, { budArgv, pushArgv } from './index.js'

const plan = (dockerfile: string, secrets: BuildContextPlan['secrets'] = []) =>
  ({ dockerfile, secrets }) as BuildContextPlan

async function load(text: string) {
  const cwd = useTempDir('imagespec-buildah-unit-')
  writeFileSync(join(cwd, 'imagespec.yaml'), text)
  return loadSpec(join(cwd, 'imagespec.yaml'), { env: {} })
}

async function request(
  spec: Record<string, unknown>,
  settings: Record<string, unknown> = {},
): Promise<BuildRequest> {
  const loaded = await load(JSON.stringify(spec))
  return { loaded, imageName: 'localhost:5000/app:abc', push: true, force: false, settings }
}

describe('buildah builder', () => {
  it('is a contract-1 builder with honest capabilities', () => {
    const p = buildah(undefined)
    expect(isBuilderPlugin(p)).toBe(true)
    expect(p.name).toBe('buildah')
    expect(p.capabilities).toEqual({
      cacheMounts: true,
      secrets: true,
      multiPlatform: true,
      push: true,
    })
  })

  it('builds a single platform as a tagged docker-format image with labels, secrets and network', async () => {
    const req = await request(
      { name: 'app', registry: 'localhost:5000', base_image: 'localhost:5000/base:1' },
      { network: 'host', labels: { a: 'b' } },
    )
    const argv = budArgv(
      req,
      plan('FROM localhost:5000/base:1\n', [{ id: 'secret_0', src: 'pip.conf' }]),
      '/ctx',
      {},
      {},
    )
    expect(argv).toEqual([
      'buildah',
      '--storage-driver',
      'vfs',
      'bud',
      '--format',
      'docker',
      '--isolation',
      'chroot',
      '--tls-verify=false',
      '--network',
      'host',
      '--platform',
      'linux/amd64',
      '--label',
      'a=b',
      '--secret',
      `id=secret_0,src=${join(req.loaded.cwd, 'pip.conf')}`,
      '--tag',
      'localhost:5000/app:abc',
      '--file',
      '/ctx/Dockerfile',
      '/ctx',
    ])
  })

  it('keeps TLS verification for a remote base and reads its settings from the environment', async () => {
    const req = await request({ name: 'app', registry: 'ghcr.io/acme' })
    const env = {
      IMAGESPEC_BUILDAH: '/opt/buildah',
      IMAGESPEC_BUILDAH_STORAGE_DRIVER: 'overlay',
      IMAGESPEC_BUILDAH_ROOT: '/r',
    }
    const argv = budArgv(
      { ...req, imageName: 'ghcr.io/acme/app:t' },
      plan('FROM ghcr.io/acme/base:1\n'),
      '/c',
      { isolation: 'oci' },
      env,
    )
    expect(argv.slice(0, 8)).toEqual([
      '/opt/buildah',
      '--storage-driver',
      'overlay',
      '--root',
      '/r',
      'bud',
      '--format',
      'docker',
    ])
    expect(argv).toContain('oci')
    expect(argv).not.toContain('--tls-verify=false')
  })

  it('builds several platforms into a manifest list and pushes it with --all', async () => {
    const req = await request({
      name: 'app',
      registry: 'localhost:5000',
      platform: 'linux/amd64,linux/arm64',
    })
    const argv = budArgv(req, plan('FROM localhost:5000/base:1\n'), '/c', {}, {})
    expect(argv.slice(-7)).toEqual([
      '--platform',
      'linux/amd64,linux/arm64',
      '--manifest',
      'localhost:5000/app:abc',
      '--file',
      '/c/Dockerfile',
      '/c',
    ])
    expect(pushArgv(req, {}, {}, '/d')).toEqual([
      'buildah',
      '--storage-driver',
      'vfs',
      'manifest',
      'push',
      '--all',
      '--tls-verify=false',
      '--digestfile',
      '/d',
      'localhost:5000/app:abc',
      'docker://localhost:5000/app:abc',
    ])
  })

  it('describes a dry run through the engine: the Dockerfile with absolute mount targets and both commands', async () => {
    const engine = createEngine({ exists: async () => ({ status: 'missing' }) })
    engine.register(buildah(undefined))
    const loaded = await load(
      'name: app\nregistry: localhost:5000\nbase_image: localhost:5000/base:1\npackages: [requests]\nbuilder_options: {installer: pip}\n',
    )
    const outcome = await engine.build(
      { ...loaded, spec: { ...loaded.spec, builder: 'buildah' } },
      { dryRun: true, env: {} },
    )
    expect(outcome.builder).toBe('buildah')
    expect(outcome.description?.dockerfile).toContain('target=/root/requirements_pip.txt')
    expect(outcome.description?.command).toMatch(
      /^buildah --storage-driver vfs bud .* && buildah --storage-driver vfs push --tls-verify=false /,
    )
  })
})
