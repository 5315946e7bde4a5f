import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runMain } from './_main.js'

const dir = mkdtempSync(join(tmpdir(), 'imagespec-suggest-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('did you mean', () => {
  it('an unknown command gets one line with the closest command, not the whole help', async () => {
    const r = await runMain(dir, ['biuld', 'x.yaml'])
    expect(r).toMatchObject({ code: 2, stdout: '' })
    expect(r.stderr).toBe(
      "error: unknown command 'biuld' (did you mean build?); see 'imagespec --help'\n",
    )
    expect((await runMain(dir, ['frobnicate'])).stderr).toBe(
      "error: unknown command 'frobnicate'; see 'imagespec --help'\n",
    )
  })

  it('an unknown option gets the closest option of that command', async () => {
    const r = await runMain(dir, ['build', 'x.yaml', '--dryrun'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      "error: unknown option '--dryrun' (did you mean --dry-run?); see 'imagespec build --help'\n",
    )
    expect((await runMain(dir, ['name', 'x.yaml', '--jsno'])).stderr).toContain(
      '(did you mean --json?)',
    )
  })

  it("a misspelt spec field keeps flytekit's message and adds the field it probably meant", async () => {
    writeFileSync(join(dir, 'typo.yaml'), 'name: app\npython_versoin: "3.11"\n')
    const r = await runMain(dir, ['validate', 'typo.yaml'])
    expect(r.code).toBe(2)
    expect(r.stdout).toContain(
      "python_versoin: ImageSpec.__init__() got an unexpected keyword argument 'python_versoin' (did you mean python_version?)",
    )
  })
})
