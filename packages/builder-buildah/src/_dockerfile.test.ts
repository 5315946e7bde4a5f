import { describe, expect, it } from 'vitest'
import { absoluteMountTargets, fromImages } from './_dockerfile.js'

describe('absoluteMountTargets', () => {
  it('resolves relative mount targets against the current WORKDIR and leaves absolute ones', () => {
    const input = [
      'FROM base AS one',
      'WORKDIR /root',
      'RUN --mount=type=cache,target=/root/.cache/pip,id=pip --mount=type=bind,target=requirements_pip.txt,src=requirements_pip.txt pip install',
      'WORKDIR sub',
      'RUN --mount=type=bind,dst=x.txt,src=x.txt cat x.txt',
      'FROM base',
      'RUN --mount=type=secret,id=s,target=run/s true',
      'COPY target=relative /x',
    ].join('\n')
    expect(absoluteMountTargets(input)).toBe(
      [
        'FROM base AS one',
        'WORKDIR /root',
        'RUN --mount=type=cache,target=/root/.cache/pip,id=pip --mount=type=bind,target=/root/requirements_pip.txt,src=requirements_pip.txt pip install',
        'WORKDIR sub',
        'RUN --mount=type=bind,dst=/root/sub/x.txt,src=x.txt cat x.txt',
        'FROM base',
        'RUN --mount=type=secret,id=s,target=/run/s true',
        'COPY target=relative /x',
      ].join('\n'),
    )
  })
})

describe('fromImages', () => {
  it('lists FROM images, not earlier stage names', () => {
    const df =
      'FROM --platform=linux/amd64 ghcr.io/astral-sh/uv:0.5.1 AS uv\nFROM localhost:5000/base:1\nFROM uv\n'
    expect(fromImages(df)).toEqual(['ghcr.io/astral-sh/uv:0.5.1', 'localhost:5000/base:1'])
  })
})
