import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runMain } from './_main.js'

const dir = mkdtempSync(join(tmpdir(), 'imagespec-completion-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('imagespec completion', () => {
  let script: string
  beforeAll(async () => {
    const r = await runMain(dir, ['completion', 'bash'])
    expect(r.code, r.stderr).toBe(0)
    script = join(dir, 'imagespec.bash')
    writeFileSync(script, r.stdout)
    writeFileSync(join(dir, 'spec.yaml'), 'name: x\n')
  })

  /** What bash completes for the words typed so far (the last one is being completed). */
  const complete = (...words: string[]) =>
    execFileSync(
      'bash',
      [
        '-c',
        `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _imagespec; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter(Boolean)

  it("bash completes commands, a command's options, option values and spec files", () => {
    expect(complete('imagespec', 'b')).toEqual(['build'])
    expect(complete('imagespec', 'ex')).toEqual(['exists', 'explain'])
    expect(complete('imagespec', 'build', 'spec.yaml', '--dr')).toEqual(['--dry-run'])
    expect(complete('imagespec', 'name', '--j')).toEqual(['--json'])
    expect(complete('imagespec', 'build', '--progress', '')).toEqual(['auto', 'plain', 'json'])
    expect(complete('imagespec', 'validate', 'sp')).toEqual(['spec.yaml'])
    expect(complete('imagespec', '--builder-module', 'x', 'ren')).toEqual(['render'])
  })

  it('zsh reuses it through bashcompinit; fish gets native completions; other shells are a usage error', async () => {
    const zsh = await runMain(dir, ['completion', 'zsh'])
    expect(zsh.stdout).toMatch(/^#compdef imagespec\n/)
    expect(zsh.stdout).toContain('bashcompinit')
    expect(zsh.stdout).toContain('complete -o filenames -o bashdefault -F _imagespec imagespec')
    const fish = (await runMain(dir, ['completion', 'fish'])).stdout
    expect(fish).toContain(
      "complete -c imagespec -n __fish_use_subcommand -a build -d 'build the image",
    )
    expect(fish).toContain(
      "complete -c imagespec -n '__fish_seen_subcommand_from build' -l progress -r -f -a 'auto plain json'",
    )
    const bad = await runMain(dir, ['completion', 'tcsh'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('Unknown shell "tcsh"')
  })
})
