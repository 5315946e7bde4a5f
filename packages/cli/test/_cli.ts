import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { expect } from 'vitest'

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const DIST_BIN = join(pkgDir, 'dist/bin.cjs')
const SRC_BIN = join(pkgDir, 'test/_src-bin.ts')
// tsx's loader by path, so that a run from a directory outside the repository (a temp project) finds it too.
const TSX = pathToFileURL(
  join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/loader.mjs'),
).href

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs the `imagespec` CLI in a child process: the built binary (`dist/bin.cjs`) when `opts.dist` is true, or when
 * it is not given and IMAGESPEC_CLI_DIST=1 (the `test:int` script, which runs after `build`); else the sources through
 * tsx with the `@imagespec/source` condition.
 */
export function runCli(
  args: string[],
  opts: {
    cwd?: string
    env?: Record<string, string | undefined>
    input?: string
    nodeArgs?: string[]
    dist?: boolean
    timeoutMs?: number
  } = {},
): Promise<CliResult> {
  const useDist = opts.dist ?? process.env.IMAGESPEC_CLI_DIST === '1'
  if (useDist && !existsSync(DIST_BIN))
    throw new Error(`${DIST_BIN} is missing: build @imagespec/cli first`)
  const node = opts.nodeArgs ?? []
  const argv = useDist
    ? [...node, DIST_BIN, ...args]
    : [...node, '--conditions=@imagespec/source', '--import', TSX, SRC_BIN, ...args]
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, argv, {
      cwd: opts.cwd ?? pkgDir,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    // A bound for long runs (real builds): SIGTERM (the CLI cancels its build), then SIGKILL; the result says so.
    let timedOut = false
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            child.kill('SIGTERM')
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
          }, opts.timeoutMs)
    child.on('error', fail)
    child.on('close', (code) => {
      clearTimeout(timer)
      if (timedOut) stderr += `\n[runCli: killed after ${opts.timeoutMs} ms]\n`
      done({ code: code ?? -1, stdout, stderr })
    })
    child.stdin.end(opts.input ?? '')
  })
}

/**
 * Builds the project in `dir` end to end (its `imagespec.yaml`, relative paths resolving from `dir`): `imagespec name`,
 * then `imagespec build` with the offline settings (host network, no `# syntax=` line, TMPDIR `tmp`), putting `label`
 * (`key=value`) on the images. Fails the test unless both succeed and the build pushed the named image; resolves that
 * name and the build's output.
 */
export async function buildProject(
  dir: string,
  opts: { label: string; tmp: string },
): Promise<CliResult & { imageName: string }> {
  const env = {
    IMAGESPEC_DOCKERFILE_SYNTAX: 'none',
    IMAGESPEC_BUILD_NETWORK: 'host',
    TMPDIR: opts.tmp,
  }
  const named = await runCli(['name', '--json', 'imagespec.yaml'], { cwd: dir, env })
  expect(named.code, named.stderr).toBe(0)
  const { image_name: imageName } = JSON.parse(named.stdout) as { image_name: string }
  const built = await runCli(
    ['build', 'imagespec.yaml', '--progress', 'plain', '--label', opts.label],
    { cwd: dir, env },
  )
  expect(built.code, built.stderr + built.stdout).toBe(0)
  expect(built.stderr).toContain(`pushed ${imageName}`)
  return { ...built, imageName }
}
