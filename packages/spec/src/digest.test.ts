import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, opendirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { computeTag } from './identity.js'
import { readLockProject } from './uv-project.js'
import { specFromObject } from './normalize.js'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { useTempDir } from '@imagespec/test-utils'
import {
  EMPTY_MD5,
  compareCodePoints,
  copyDigest,
  createSourceWalks,
  listSourceFiles,
  requirementsDigest,
} from './digest.js'

function tree(files: Record<string, string>, git = false): string {
  const root = useTempDir('imagespec-digest-')
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    writeFileSync(path.join(root, rel), content)
  }
  if (git) execFileSync('git', ['init', '-q'], { cwd: root })
  return root
}

const md5 = (...chunks: string[]) =>
  chunks.reduce((h, c) => h.update(c), createHash('md5')).digest('hex')

describe('listSourceFiles', () => {
  it('walks ALL with .git pruned, symlinked dirs not followed, broken links skipped', async () => {
    const root = tree({
      'a.py': 'A',
      'pkg/b.py': 'B',
      '.git/config': 'x',
      'sub/.git/HEAD': 'y',
      'real/c.txt': 'C',
    })
    symlinkSync(path.join(root, 'real'), path.join(root, 'linkdir'))
    symlinkSync(path.join(root, 'a.py'), path.join(root, 'link.py'))
    symlinkSync(path.join(root, 'nowhere'), path.join(root, 'broken'))
    const { files, digest } = await listSourceFiles(root, 'ALL')
    expect(files).toEqual(['a.py', 'link.py', 'pkg/b.py', 'real/c.txt'])
    expect(digest).toBe(md5('A', 'a.py', 'A', 'link.py', 'B', 'pkgb.py', 'C', 'realc.txt'))
  })

  it('applies .gitignore through git, also to whole ignored directories', async () => {
    const files: Record<string, string> = {
      '.gitignore': 'build/\n*.log\n!build/keep.txt\n',
      'x.log': '',
      'm.py': 'M',
    }
    for (let i = 0; i < 50; i++) files[`build/f${i}.txt`] = String(i)
    files['build/keep.txt'] = 'k'
    files['build/deeper/y.txt'] = 'y'
    const root = tree(files, true)
    expect((await listSourceFiles(root, 'ALL')).files).toEqual(['.gitignore', 'm.py'])
  })

  it('ignores nothing from .gitignore outside a repository', async () => {
    const root = tree({ '.gitignore': '*.log\n', 'x.log': 'l' })
    expect((await listSourceFiles(root, 'ALL')).files).toEqual(['.gitignore', 'x.log'])
  })

  it('keeps only loaded modules under the root in LOADED_MODULES mode', async () => {
    const root = tree({ 'app/__init__.py': '', 'app/wf.py': 'Y = 2\n', 'notes.txt': 'n' })
    const loadedModules = [
      path.join(root, 'app/wf.py'),
      path.join(root, 'app/__init__.py'),
      '/usr/lib/python3/os.py',
      'rel.py',
    ]
    const { files, digest } = await listSourceFiles(root, 'LOADED_MODULES', { loadedModules })
    expect(files).toEqual(['app/__init__.py', 'app/wf.py'])
    expect(digest).toBe(md5('app__init__.py', 'Y = 2\n', 'appwf.py'))
    expect(await listSourceFiles(root, 'LOADED_MODULES')).toEqual({ files: [], digest: EMPTY_MD5 })
    expect(await listSourceFiles(root, 'NO_COPY')).toEqual({ files: [], digest: EMPTY_MD5 })
  })

  it('sorts by code point like Python', () => {
    expect(['\u{1f600}', '\uffff', 'a/b', 'a-b'].sort(compareCodePoints)).toEqual([
      'a-b',
      'a/b',
      '\uffff',
      '\u{1f600}',
    ])
  })
})

describe('copyDigest (compute_digest)', () => {
  it('hashes list entries in order, files by basename, directory files relative to the directory (vector 17)', async () => {
    const cwd = tree({
      'data/file1.txt': 'file one\n',
      'configs/a.yaml': 'a: 1\n',
      'configs/sub/b.yaml': 'b: 2\n',
    })
    expect(await copyDigest(['data/file1.txt', 'configs', 'missing'], cwd)).toBe(
      'a21a7ffe1f716eaf298aa9e9e08ac23d',
    )
  })

  it('visits subdirectories in the directory listing order, not sorted', async () => {
    const cwd = tree({ 'd/z/1': 'z', 'd/a/1': 'a', 'd/m/1': 'm' })
    const dir = opendirSync(path.join(cwd, 'd'))
    const listed: string[] = []
    for (let e; (e = dir.readSync()) !== null;) listed.push(e.name)
    dir.closeSync()
    expect(await copyDigest(['d'], cwd)).toBe(md5(...listed.flatMap((n) => [n, `${n}1`])))
  })
})

describe('requirementsDigest', () => {
  it('is the sha1 of the bytes stripped of ASCII whitespace', () => {
    const cwd = tree({ 'r.txt': ' \t\nthreadpoolctl\n\n\x0b' })
    expect(requirementsDigest(path.join(cwd, 'r.txt'))).toBe(
      '76e62461356ccc9cbcefea27d771f8648c930ba5',
    )
    expect(() => requirementsDigest(path.join(cwd, 'nope.txt'))).toThrow(
      /Requirements file ".*nope.txt" not found/,
    )
  })
})

describe('hostile trees (one rule for the tag and the context)', () => {
  const fifo = (p: string) => execFileSync('mkfifo', [p])

  it('never loops on a directory symlink loop, in source_root or a copy tree', async () => {
    const root = tree({ 'a.py': 'A', 'd/b.txt': 'B' })
    symlinkSync('..', path.join(root, 'd/up'))
    symlinkSync(root, path.join(root, 'self'))
    expect((await listSourceFiles(root, 'ALL')).files).toEqual(['a.py', 'd/b.txt'])
    expect(await copyDigest(['d'], root)).toBe(md5('B', 'b.txt'))
  })

  it('refuses a file symlink leaving the tree (E_CONTEXT naming it), in source_root, copy trees and copy entries', async () => {
    const outside = tree({ 'secret.txt': 'S' })
    const root = tree({ 'a.py': 'A', 'd/b.txt': 'B' })
    symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'd/leak.txt'))
    symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'top.txt'))
    await expect(listSourceFiles(root, 'ALL')).rejects.toMatchObject({
      code: 'E_CONTEXT',
      message: expect.stringMatching(
        /(d\/leak|top).txt" is a symbolic link to ".*secret.txt", outside/,
      ),
    })
    await expect(copyDigest(['d'], root)).rejects.toMatchObject({
      code: 'E_CONTEXT',
      field: path.join(root, 'd/leak.txt'),
    })
    await expect(copyDigest(['top.txt'], root)).rejects.toMatchObject({
      code: 'E_CONTEXT',
      message: expect.stringContaining('outside'),
    })
    // a link that stays inside is followed, as flytekit follows it
    symlinkSync('b.txt', path.join(root, 'd/alias.txt'))
    writeFileSync(path.join(outside, '.dockerignore'), '')
    const inner = tree({ 'd/b.txt': 'B' })
    symlinkSync('b.txt', path.join(inner, 'd/alias.txt'))
    expect(await copyDigest(['d'], inner)).toBe(md5('B', 'alias.txt', 'B', 'b.txt'))
  })

  it('refuses FIFOs before opening them (a copy entry, inside a copy tree, in source_root unless ignored)', async () => {
    const root = tree({ 'a.py': 'A', 'd/b.txt': 'B', '.dockerignore': 'ignored.fifo\n' })
    fifo(path.join(root, 'd/pipe'))
    fifo(path.join(root, 'top.fifo'))
    fifo(path.join(root, 'ignored.fifo'))
    await expect(copyDigest(['top.fifo'], root)).rejects.toMatchObject({
      code: 'E_CONTEXT',
      message:
        'copy[0]: "top.fifo" is a FIFO: only regular files and directories can go into an image',
    })
    await expect(copyDigest(['d'], root)).rejects.toMatchObject({
      code: 'E_CONTEXT',
      message: expect.stringContaining('d/pipe" is a FIFO'),
    })
    await expect(listSourceFiles(root, 'ALL')).rejects.toMatchObject({
      code: 'E_CONTEXT',
      message: expect.stringContaining('is a FIFO'),
    })
    const clean = tree({ 'a.py': 'A', '.dockerignore': 'ignored.fifo\n' })
    fifo(path.join(clean, 'ignored.fifo'))
    expect((await listSourceFiles(clean, 'ALL')).files).toEqual(['.dockerignore', 'a.py'])
  })

  it('refuses a requirements path that is not a regular file, and an absolute copy entry, already for the tag', async () => {
    expect(() => requirementsDigest('/dev/zero')).toThrow(
      expect.objectContaining({
        code: 'E_SPEC_INVALID',
        message: 'Requirements file "/dev/zero" is not a regular file',
      }),
    )
    const root = tree({ 'a.txt': 'A' })
    const loaded = specFromObject({ name: 'x', copy: ['/etc/hostname'] }, { cwd: root, env: {} })
    await expect(computeTag(loaded)).rejects.toMatchObject({
      code: 'E_SPEC_INVALID',
      field: 'copy[0]',
      message: "Absolute paths or paths with '..' are not allowed in COPY command.",
    })
  })

  it('refuses a FIFO named uv.lock or poetry.lock, and a FIFO pyproject.toml beside a lock, before reading them', async () => {
    // The lock readers opened such a uv.lock for the tag: `imagespec name` then blocked for ever.
    for (const lock of ['uv.lock', 'poetry.lock']) {
      const root = tree({})
      fifo(path.join(root, lock))
      const loaded = specFromObject({ name: 'x', requirements: lock }, { cwd: root, env: {} })
      await expect(computeTag(loaded)).rejects.toMatchObject({
        code: 'E_SPEC_INVALID',
        field: 'requirements',
        message: `Requirements file "${path.join(root, lock)}" is not a regular file`,
      })
      await expect(readLockProject(loaded.spec, root)).rejects.toMatchObject({
        code: 'E_SPEC_INVALID',
      })
    }
    const root = tree({ 'uv.lock': '' })
    fifo(path.join(root, 'pyproject.toml'))
    await expect(readLockProject({ requirements: 'uv.lock' } as never, root)).rejects.toMatchObject(
      {
        code: 'E_CONTEXT',
        message: `"${path.join(root, 'pyproject.toml')}" is a FIFO: only regular files and directories can go into an image`,
      },
    )
  })
})

describe('the source digest', () => {
  it('hashes each file then its path, with files larger than the read buffer and non-ASCII paths', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 300; i++) files[`d${i % 7}/f${i}.txt`] = `file ${i}\n`.repeat(i)
    files['big.bin'] = 'x'.repeat(3 << 20)
    files['exact.bin'] = 'y'.repeat(1 << 20)
    files['empty'] = ''
    files['dé/ü😀.txt'] = 'unicode'
    const root = tree(files)
    const names = Object.keys(files).sort(compareCodePoints)
    const expected = md5(...names.flatMap((n) => [files[n], n.replaceAll('/', '')]))
    const { files: listed, digest } = await listSourceFiles(root, 'ALL')
    expect(listed).toEqual(names)
    expect(digest).toBe(expected)
  })

  it('does not look at the load average', async () => {
    const load = vi.spyOn(os, 'loadavg')
    try {
      const root = tree({ 'a.py': 'a', 'b/c.py': 'c' })
      const digests = []
      for (const avg of [0, 40]) {
        load.mockReturnValue([avg, avg, avg])
        digests.push((await listSourceFiles(root, 'ALL')).digest)
      }
      expect(digests).toEqual([md5('a', 'a.py', 'c', 'bc.py'), md5('a', 'a.py', 'c', 'bc.py')])
      expect(load).not.toHaveBeenCalled()
    } finally {
      load.mockRestore()
    }
  })
})

describe('shared source walks (createSourceWalks)', () => {
  it('lets the tag and then the context of one command walk the tree once', async () => {
    const root = tree({ '.gitignore': '*.log\n', 'a.py': 'a', 'x.log': 'l', 'pkg/b.py': 'b' }, true)
    const loaded = specFromObject(
      { name: 'w', source_root: root, source_copy_mode: 'ALL' },
      { cwd: root, env: {} },
    )
    const sourceWalks = createSourceWalks()
    const tag = await computeTag(loaded, { sourceWalks })
    expect(tag).toBe(await computeTag(loaded))
    unlinkSync(path.join(root, 'pkg/b.py')) // not seen: the walk made for the tag is reused
    const { files } = await listSourceFiles(root, 'ALL', { digest: false, sourceWalks })
    expect(files).toEqual(['.gitignore', 'a.py', 'pkg/b.py'])
    expect((await listSourceFiles(root, 'ALL', { digest: false })).files).toEqual([
      '.gitignore',
      'a.py',
    ])
  })

  it('keeps apart the walks that flytekit quoting makes different', async () => {
    const root = tree({ '.gitignore': '*.log\n', 'a.py': 'a', 'é.log': 'q' }, true)
    const sourceWalks = createSourceWalks()
    const loaded = specFromObject(
      { name: 'w', source_root: root, source_copy_mode: 'ALL' },
      { cwd: root, env: {} },
    )
    // The tag keeps the git-ignored `é.log` (flytekit compares git's C-quoted name); the context drops it.
    expect(await computeTag(loaded, { sourceWalks })).toBe(await computeTag(loaded))
    const { files } = await listSourceFiles(root, 'ALL', { digest: false, sourceWalks })
    expect(files).toEqual(['.gitignore', 'a.py'])
  })
})

describe('ignore rules', () => {
  it('matches the standard patterns like Python fnmatch', async () => {
    const { isStandardIgnored } = await import('./ignore.js')
    const cases: [string, boolean][] = [
      ['a.pyc', true],
      ['x/y/a.pyc', true],
      ['.cache', true],
      ['.cache/c.txt', true],
      ['x/.cache/c.txt', false],
      ['__pycache__/m.pyc', true],
      ['__pycache__/m.txt', true],
      ['pkg/__pycache__/m.txt', true],
      ['pkg/__pycache__', false],
      ['proj/.cache/c.txt', false],
      ['a.py', false],
    ]
    for (const [p, ignored] of cases) expect(isStandardIgnored(p), p).toBe(ignored)
  })

  it('walks into an ignored directory that holds a nested repository, as flytekit does', async () => {
    const root = tree(
      { '.gitignore': 'out/\n', 'out/sub/x.txt': 'x', 'out/y.txt': 'y', 'm.py': 'm' },
      true,
    )
    execFileSync('git', ['init', '-q'], { cwd: path.join(root, 'out/sub') })
    expect((await listSourceFiles(root, 'ALL')).files).toEqual([
      '.gitignore',
      'm.py',
      'out/sub/x.txt',
    ])
  })
})
