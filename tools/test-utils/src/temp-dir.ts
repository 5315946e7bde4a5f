import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, onTestFinished, TestRunner } from 'vitest'

/**
 * A new directory in the temporary folder (`prefix` and six random characters), removed with its content when the
 * test that asked for it ends, or, asked outside a test (a test file's or a describe's body), after the tests of that
 * file or describe. A test and beforeEach count as the test; in beforeAll nothing would remove it (vitest ignores an
 * afterAll registered while hooks run): make it in the describe's body instead. The vitest runs fail when a test leaves
 * anything in the temporary folder (tools/vitest.tmpdir.ts).
 */
export function useTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const remove = () => rmSync(dir, { recursive: true, force: true })
  if (TestRunner.getCurrentTest()) onTestFinished(remove)
  else afterAll(remove)
  return dir
}
