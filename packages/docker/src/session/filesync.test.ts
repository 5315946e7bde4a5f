import type { Readable } from 'node:stream'
import { pack } from 'tar-stream'
import { describe, expect, it } from 'vitest'
import { GO_MODE } from '../buildkit/_wire.js'
import { ContextTree } from './_filesync.js'

async function treeOf(files: Record<string, string>): Promise<ContextTree> {
  const p = pack()
  for (const [name, content] of Object.entries(files)) p.entry({ name, mode: 0o644 }, content)
  p.finalize()
  return ContextTree.fromTar(p as unknown as Readable)
}

const all = { followPaths: [], includePatterns: [], excludePatterns: [] }

describe('ContextTree', () => {
  it("lists entries in Go's walk order, with the directories a tar implies", async () => {
    const tree = await treeOf({
      'b.txt': 'b',
      'a/z.txt': 'z',
      'a.txt': 'a',
      'a/b/c.txt': 'c',
      Dockerfile: 'FROM x',
    })
    const entries = tree.select(all)
    expect(entries.map((e) => e.stat.path)).toEqual([
      'Dockerfile',
      'a',
      'a/b',
      'a/b/c.txt',
      'a/z.txt',
      'a.txt',
      'b.txt',
    ])
    const dir = entries.find((e) => e.stat.path === 'a')!
    expect(dir.stat.mode).toBe((GO_MODE.DIR | 0o755) >>> 0)
    const file = entries.find((e) => e.stat.path === 'a/z.txt')!
    expect(file.stat).toMatchObject({ mode: 0o644, size: 1 })
    expect(String(file.data)).toBe('z')
  })

  it('honours followpaths (with their parents) and exclude patterns with exceptions', async () => {
    const tree = await treeOf({
      Dockerfile: 'x',
      'src/app/x.py': '',
      'src/app/y.pyc': '',
      'docs/a.md': '',
      'keep.md': '',
    })
    expect(
      tree
        .select({ ...all, followPaths: ['Dockerfile', 'Dockerfile.dockerignore'] })
        .map((e) => e.stat.path),
    ).toEqual(['Dockerfile'])
    expect(tree.select({ ...all, followPaths: ['src/app/x.py'] }).map((e) => e.stat.path)).toEqual([
      'src',
      'src/app',
      'src/app/x.py',
    ])
    const excluded = tree.select({
      ...all,
      excludePatterns: ['**/*.pyc', '*.md', '!keep.md', 'docs'],
    })
    expect(excluded.map((e) => e.stat.path)).toEqual([
      'Dockerfile',
      'keep.md',
      'src',
      'src/app',
      'src/app/x.py',
    ])
  })
})
