import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { ensureBaseImage } from './base-image.js'
import { TEST_LABEL } from './engine.js'
import { flytekitStub, startPackageIndex, type RunningIndex, type WheelSpec } from './pyindex.js'
import { startRegistry, type RunningRegistry } from './registry.js'

/** The flytekit version the build tests pin; the package index serves a stub wheel of it. */
export const FLYTEKIT_VERSION = '1.16.24'

/** Debian's docker CLI, synchronously; returns stdout (throws with stderr on a non-zero exit). */
export const docker = (...args: string[]): string =>
  execFileSync('/usr/bin/docker', args, {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'pipe'],
  })

export interface BuildEnvOptions {
  /** Prefix of the temporary work directory. */
  prefix: string
  /** Wheels the package index serves besides the stub flytekit at FLYTEKIT_VERSION. */
  wheels: WheelSpec[]
  /** Also start a second index holding `imagespec-secret-only` (reachable only through a pip config secret). */
  secretIndex?: boolean
}

/** What an end-to-end build test works against; set by useBuildEnv's beforeAll, so read it inside the tests. */
export interface BuildEnv {
  /** Labels (`TEST_LABEL=runId`) what the test creates; afterAll removes the images labelled so. */
  runId: string
  /** The offline base image in the engine's store. */
  base: string
  registry: RunningRegistry
  index: RunningIndex
  /** Only with `secretIndex: true`. */
  secretIndex: RunningIndex
  /** A temporary directory for the test's projects, with an empty `tmp/` inside (for TMPDIR). */
  work: string
}

/**
 * The setup the end-to-end build tests share, as beforeAll/afterAll hooks of the calling suite: the offline base
 * image, a loopback registry, a package index (the test's wheels and a stub flytekit), optionally the secret-only
 * index, and a work directory. afterAll removes the images labelled with the run id, stops the services and removes
 * the work directory.
 */
export function useBuildEnv(options: BuildEnvOptions): BuildEnv {
  const env = { runId: randomUUID() } as BuildEnv
  beforeAll(async () => {
    env.base = await ensureBaseImage()
    env.registry = await startRegistry()
    env.index = await startPackageIndex([...options.wheels, flytekitStub(FLYTEKIT_VERSION)])
    if (options.secretIndex) {
      env.secretIndex = await startPackageIndex([
        {
          name: 'imagespec-secret-only',
          version: '1.0.0',
          files: { 'secret_only/__init__.py': 'OK = True\n' },
        },
      ])
    }
    env.work = mkdtempSync(join(tmpdir(), options.prefix))
    mkdirSync(join(env.work, 'tmp'))
  })
  afterAll(async () => {
    const ids = docker('image', 'ls', '-q', '--filter', `label=${TEST_LABEL}=${env.runId}`)
      .split('\n')
      .filter(Boolean)
    if (ids.length)
      execFileSync('/usr/bin/docker', ['image', 'rm', '-f', ...new Set(ids)], { stdio: 'ignore' })
    await env.registry?.stop()
    await env.index?.stop()
    await env.secretIndex?.stop()
    if (env.work) rmSync(env.work, { recursive: true, force: true })
  })
  return env
}
