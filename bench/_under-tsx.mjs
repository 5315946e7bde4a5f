// Benchmarks import the workspace's TypeScript (test utilities, package sources): the first time a bench script runs,
// it re-runs itself under tsx with the `@imagespec/source` condition and exits with the child's status.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Call first thing with `import.meta.url`; returns only inside the re-run child. */
export function runUnderTsx(selfUrl) {
  if (process.env.IMAGESPEC_BENCH_CHILD) return
  const self = fileURLToPath(selfUrl)
  const r = spawnSync(
    process.execPath,
    ['--conditions=@imagespec/source', '--import', 'tsx', self, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: { ...process.env, IMAGESPEC_BENCH_CHILD: '1' },
      cwd: repo,
    },
  )
  process.exit(r.status ?? 1)
}
