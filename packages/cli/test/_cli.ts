import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const DIST_BIN = join(pkgDir, 'dist/bin.js')
const SRC_BIN = join(pkgDir, 'src/bin.ts')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs the `imagespec` CLI in a child process: the built `dist/bin.js` when IMAGESPEC_CLI_DIST=1 (after `build`),
 * else the sources through tsx with the `@imagespec/source` condition.
 */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string; nodeArgs?: string[] } = {},
): Promise<CliResult> {
  const useDist = process.env.IMAGESPEC_CLI_DIST === '1' && existsSync(DIST_BIN)
  const node = opts.nodeArgs ?? []
  const argv = useDist
    ? [...node, DIST_BIN, ...args]
    : [...node, '--conditions=@imagespec/source', '--import', 'tsx', SRC_BIN, ...args]
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
    child.on('error', fail)
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }))
    child.stdin.end(opts.input ?? '')
  })
}
