import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's own temporary directory (see below). */
    runTmpdir: string
  }
}

/** What a tool, not a test, keeps in the temporary folder: tsx's compile cache (tsx-<uid>), removed with the rest. */
const TOOL_CACHE = /^tsx-\d+$/

/** Whether process `pid` runs (a process of another user counts as running). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Global setup of every vitest project: the run gets a fresh temporary directory, which tools/vitest.tmpdir-env.ts
 * makes the test workers' TMPDIR (os.tmpdir() reads it at each call, child processes inherit it). At teardown the
 * directory must be empty: whatever a test left there is named, removed, and fails the run (exit 1). The directories
 * of runs whose process is gone (an interrupted run) are removed at the next setup.
 */
export default function setup(project: TestProject): () => void {
  const base = tmpdir()
  for (const name of readdirSync(base)) {
    const pid = Number(/^imagespec-vitest-(\d+)-/.exec(name)?.[1])
    if (pid && !alive(pid)) rmSync(join(base, name), { recursive: true, force: true })
  }
  const dir = mkdtempSync(join(base, `imagespec-vitest-${process.pid}-`))
  project.provide('runTmpdir', dir)
  return () => {
    const left = readdirSync(dir)
      .filter((name) => !TOOL_CACHE.test(name))
      .sort()
    rmSync(dir, { recursive: true, force: true })
    if (left.length === 0) return
    // vitest only logs a teardown that throws ("error during close") and still exits 0: set the exit code instead.
    process.exitCode = 1
    console.error(
      `\nThe tests left ${left.length} entries in their temporary directory ${dir} (removed now): ` +
        `${left.join(', ')}.\nRemove what a test creates (useTempDir from @imagespec/test-utils, or rmSync in ` +
        `afterEach/afterAll).\n`,
    )
  }
}
