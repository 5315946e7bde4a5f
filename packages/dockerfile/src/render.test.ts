import { describe, expect, it } from 'vitest'
import { normalizeSpec, type InstallPlan } from '@imagespec/spec'
import { copyArgs, envPair, pyJsonList } from './_quote.js'
import { cudaBaseImage, resolveBaseImage } from './cuda.js'
import {
  defaultRenderSettings,
  renderDockerfile,
  resolveRenderSettings,
  type RenderInput,
} from './index.js'

const uvPlan: InstallPlan = {
  python: {
    provider: 'micromamba',
    stages: [{ image: 'mm:1', alias: 'micromamba' }],
    caCertificatesFrom: 'micromamba',
    pathPrefix: '/opt/micromamba/envs/runtime/bin',
    python: '/opt/micromamba/envs/runtime/bin/python',
    steps: [
      {
        kind: 'run',
        mounts: [{ type: 'cache', target: '/opt/micromamba/pkgs', id: 'micromamba' }],
        command: ['micromamba create python=3.12'],
      },
    ],
  },
  packages: {
    installer: 'uv-pip',
    stages: [{ image: 'uv:1', alias: 'uv' }],
    files: [],
    secrets: [],
    commandMounts: [
      { type: 'cache', target: '/root/.cache/uv', id: 'uv' },
      { type: 'from', from: 'uv', source: '/uv', target: '/usr/bin/uv' },
    ],
    steps: [
      {
        kind: 'run',
        mounts: [{ type: 'bind', target: 'r.txt', src: 'r.txt' }],
        secrets: [{ id: 'secret_0', src: 's', target: '/etc/s' }],
        command: ['uv pip install -r r.txt'],
      },
    ],
  },
}
const pipPlan: InstallPlan = {
  python: {
    provider: 'system-python',
    stages: [],
    steps: [],
    pathPrefix: '/root/.venv/bin',
    python: '/root/.venv/bin/python',
  },
  packages: {
    installer: 'pip',
    stages: [],
    files: [],
    secrets: [],
    commandMounts: [],
    steps: [
      {
        kind: 'run',
        mounts: [{ type: 'cache', target: '/root/.cache/pip', id: 'pip' }],
        command: ['python3 -m venv /root/.venv &&', 'pip install x'],
      },
    ],
  },
}
const input = (over: Partial<RenderInput> = {}): RenderInput => ({
  baseImage: 'debian:bookworm-slim',
  install: uvPlan,
  env: { A: 'two words', B: 'plain' },
  aptPackages: ['curl', 'x;y'],
  copySource: true,
  entrypoint: ['/bin/sh', 'é'],
  copies: [
    { path: 'a/b.txt', isDirectory: false },
    { path: 'dir x', isDirectory: true },
  ],
  commands: ['echo hi', 'ls'],
  imageId: 'abc-DEF',
  ...over,
})

describe('renderDockerfile', () => {
  it('renders the uv/micromamba layout', async () => {
    await expect(renderDockerfile(input(), defaultRenderSettings)).toMatchFileSnapshot(
      '__snapshots__/uv.Dockerfile',
    )
  })

  it('renders the pip layout without helper stages, cache mounts or #syntax', async () => {
    const settings = resolveRenderSettings(
      { IMAGESPEC_DOCKERFILE_SYNTAX: 'none' },
      { cacheMounts: false },
    )
    const text = renderDockerfile(
      input({ install: pipPlan, commands: null, aptPackages: null }),
      settings,
    )
    expect(text).not.toMatch(/#syntax|--mount=type=cache|FROM .* as |ca-certificates/)
    expect(text).not.toMatch(/^RUN\s*$/m)
    await expect(text).toMatchFileSnapshot('__snapshots__/pip-nocache.Dockerfile')
  })
})

describe('quoting', () => {
  it('quotes env values that need it', () => {
    expect(envPair('K', 'v')).toBe('K=v')
    expect(envPair('K', 'two words')).toBe('K="two words"')
    expect(envPair('K', 'say "hi" \\o/')).toBe('K="say \\"hi\\" \\\\o/"')
    expect(envPair('K', '$HOME/bin')).toBe('K=$HOME/bin')
  })

  it('json.dumps with ensure_ascii', () => {
    expect(pyJsonList([])).toBe('[]')
    expect(pyJsonList(['/bin/bash', '-c'])).toBe('["/bin/bash", "-c"]')
    expect(pyJsonList(['é\u007f\n"'])).toBe('["\\u00e9\\u007f\\n\\""]')
  })

  it('COPY switches to the JSON form for paths with spaces or quotes', () => {
    expect(copyArgs(['a/b', '/root/a/'])).toBe('a/b /root/a/')
    expect(copyArgs(['a b', '/root/a b/'])).toBe('["a b", "/root/a b/"]')
  })
})

describe('settings and CUDA', () => {
  it('reads the environment', () => {
    expect(resolveRenderSettings({})).toEqual(defaultRenderSettings)
    expect(
      resolveRenderSettings({
        IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
        IMAGESPEC_DEFAULT_PYTHON_VERSION: '3.12',
      }),
    ).toMatchObject({ syntax: null, defaultPythonVersion: '3.12' })
    expect(() => resolveRenderSettings({ IMAGESPEC_DEFAULT_PYTHON_VERSION: '3.12 && x' })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG_INVALID' }),
    )
  })

  it('maps cuda/cudnn to an NVIDIA image', () => {
    const t = defaultRenderSettings.cudaImage
    expect(cudaBaseImage('11.8.0', '8', t)).toBe('nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04')
    expect(cudaBaseImage('12.4.1', '9', t)).toBe('nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04')
    expect(cudaBaseImage('12.4.1', null, t)).toBe('nvidia/cuda:12.4.1-runtime-ubuntu22.04')
    expect(cudaBaseImage('12.4.1', '8', 'my/cuda:{cuda}-{cudnn}devel')).toBe(
      'my/cuda:12.4.1-cudnn8-devel',
    )
    expect(() => cudaBaseImage('12; x', null, t)).toThrow(
      expect.objectContaining({ code: 'E_SPEC_INVALID' }),
    )
  })

  it('accepts only CUDA versions NVIDIA publishes images for; X.Y maps to the newest X.Y.Z', () => {
    const t = defaultRenderSettings.cudaImage
    expect(cudaBaseImage('12.4', null, t)).toBe('nvidia/cuda:12.4.1-runtime-ubuntu22.04')
    expect(cudaBaseImage('11.8', '8', t)).toBe('nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04')
    expect(cudaBaseImage('12.6', '9', t)).toBe('nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04')
    expect(cudaBaseImage('12.4.0', null, t)).toBe('nvidia/cuda:12.4.0-runtime-ubuntu22.04')
    for (const bad of ['12', '12.4.7', '12.7', '10.2', '12.4.1.1'])
      expect(() => cudaBaseImage(bad, null, t)).toThrow(
        expect.objectContaining({
          code: 'E_SPEC_INVALID',
          message: `cuda: "${bad}" is not a CUDA version NVIDIA publishes images for`,
        }),
      )
    expect(() => cudaBaseImage('13.0.1', null, t)).toThrow(
      /is not a CUDA version NVIDIA publishes images for/,
    )
  })

  it("uses NVIDIA's cuDNN tag part per release and refuses combinations NVIDIA does not publish", () => {
    const t = defaultRenderSettings.cudaImage
    expect(cudaBaseImage('12.3', null, t)).toBe('nvidia/cuda:12.3.2-runtime-ubuntu22.04')
    expect(cudaBaseImage('12.3.0', null, t)).toBe('nvidia/cuda:12.3.0-runtime-ubuntu22.04')
    expect(cudaBaseImage('12.3', '9', t)).toBe('nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04')
    expect(cudaBaseImage('12.2', '8', t)).toBe('nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04')
    expect(cudaBaseImage('12.0.0', '8.9', t)).toBe('nvidia/cuda:12.0.0-cudnn8-runtime-ubuntu22.04')
    expect(cudaBaseImage('13.0', '9', t)).toBe('nvidia/cuda:13.0.0-cudnn-runtime-ubuntu22.04')
    for (const [cuda, cudnn] of [
      ['12.4.1', '8'],
      ['12.2', '9'],
      ['12.4.0', '9'],
      ['12.3.1', '9'],
      ['11.8', '7'],
    ])
      expect(() => cudaBaseImage(cuda, cudnn, t)).toThrow(
        expect.objectContaining({
          code: 'E_SPEC_INVALID',
          field: 'cudnn',
          message: `cudnn: NVIDIA publishes no cuDNN ${cudnn.split('.')[0]} image for cuda "${cuda}"`,
        }),
      )
    // another template: the generic rule, any listed release
    expect(cudaBaseImage('12.4.0', '9', 'my/cuda:{cuda}-{cudnn}devel')).toBe(
      'my/cuda:12.4.0-cudnn-devel',
    )
  })

  it("keeps an explicit base_image, and raises flytekit's error in compat mode", () => {
    const spec = normalizeSpec({ name: 'g', cuda: '12.4.1', base_image: 'my/cuda' })
    expect(resolveBaseImage(spec, defaultRenderSettings)).toMatchObject({ image: 'my/cuda' })
    expect(() => resolveBaseImage(spec, { ...defaultRenderSettings, compat: 'flytekit' })).toThrow(
      /^cuda and cudnn do not need/,
    )
  })
})
