#!/usr/bin/env node
// Benchmark on a realistic tree: a git repository of 20k files in 200 folders with a .gitignore and a .dockerignore.
// - streaming the build context (packContext) against `tar -c` of the same files (target <= 1.5x);
// - hashing it for the tag (listSourceFiles: walk + ignore rules + md5) against `md5sum` over the same files (<= 1.3x);
// - `imagespec name` (the tag digest, the command run in-process) against `md5sum` over the same files (<= 1.3x);
// - `imagespec render --out` (tag, then the context written to a new folder) against `md5sum` plus a
//   `tar c | tar x` copy of the same files (<= 1.1x).
// Ratios are medians from one run, each case alternating with its baseline; the load average is printed with them.
// Leave about five minutes between runs: for minutes after many files were deleted (each run removes ~200k), ext4's
// inode allocator skips the recently deleted inodes one by one, and creating files (render's context, `tar x`) is
// several times slower on both sides. Seen as a `tar c | tar x` baseline of seconds instead of well under one.
// Run: `node bench/context.mjs [files] [iterations] [cases]`, cases a comma-separated subset of
// stream,digest,name,render (default: all).
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { repo, runUnderTsx } from './_under-tsx.mjs'

runUnderTsx(import.meta.url)

const { listSourceFiles } = await import(path.join(repo, 'packages/spec/src/index.ts'))
const { packContext } = await import(path.join(repo, 'packages/dockerfile/src/index.ts'))
const { main } = await import(path.join(repo, 'packages/cli/src/index.ts'))

const N = Number(process.argv[2] ?? 20_000)
const ITER = Number(process.argv[3] ?? 7)
const CASES = (process.argv[4] ?? 'stream,digest,name,render').split(',')

/** Runs the imagespec command line in this process (no process start-up in the figure); throws on a non-zero exit. */
async function imagespec(args, cwd) {
  let err = ''
  const sink = { write: () => undefined }
  const io = {
    stdout: sink,
    stderr: { write: (t) => void (err += t) },
    stdin: undefined,
    env: { NO_COLOR: '1', PATH: process.env.PATH, HOME: process.env.HOME },
    cwd,
    signal: new AbortController().signal,
  }
  const code = await main(args, io)
  if (code !== 0) throw new Error(`imagespec ${args.join(' ')}: exit ${code}\n${err}`)
}

function generate(root) {
  let seed = 42
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  writeFileSync(path.join(root, '.gitignore'), '*.log\nbuild/\n')
  writeFileSync(path.join(root, '.dockerignore'), '# docs\n*.md\nsecrets\n!secrets/keep.txt\n')
  const perDir = 100
  for (let i = 0; i < N; i++) {
    const dir = path.join(root, `pkg${Math.floor(i / perDir) % 40}`, `mod${Math.floor(i / perDir)}`)
    if (i % perDir === 0) mkdirSync(dir, { recursive: true })
    const ext = i % 50 === 0 ? 'log' : i % 97 === 0 ? 'md' : i % 89 === 0 ? 'pyc' : 'py'
    writeFileSync(
      path.join(dir, `f${i}.${ext}`),
      `# file ${i}\n` + 'x = 1\n'.repeat(1 + Math.floor(rnd() * 600)),
    )
  }
  mkdirSync(path.join(root, 'build'))
  writeFileSync(path.join(root, 'build/out.bin'), Buffer.alloc(1 << 20))
  // A repository with history, as a project is: the files the rules keep are committed, the ignored ones untracked.
  const git = (...args) => execFileSync('git', args, { cwd: root, stdio: 'ignore' })
  git('init', '-q')
  git('config', 'gc.auto', '0') // no background gc competing with the measurements
  git('add', '-A')
  git(
    '-c',
    'user.name=bench',
    '-c',
    'user.email=bench@example.invalid',
    'commit',
    '-q',
    '-m',
    'tree',
  )
}

async function time(fn) {
  const t = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t) / 1e6
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function sh(cmd, cwd) {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', cmd], { cwd, stdio: ['ignore', 'ignore', 'inherit'] })
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd}: exit ${code}`))))
  })
}

const root = mkdtempSync(path.join(tmpdir(), 'imagespec-bench-'))
let outBase
try {
  generate(root)
  const { files } = await listSourceFiles(root, 'ALL')
  const listFile = path.join(path.dirname(root), `${path.basename(root)}.list`)
  writeFileSync(listFile, files.map((f) => `${f}\0`).join(''))
  const plan = {
    dockerfile: 'FROM scratch\n',
    files: files.map((f) => ({ path: `src/${f}`, source: path.join(root, f) })),
    warnings: [],
    secrets: [],
  }
  let bytes = 0
  const stream = () =>
    pipeline(packContext(plan), new Writable({ write: (c, _e, cb) => ((bytes += c.length), cb()) }))
  const specFile = `${root}.yaml`
  writeFileSync(
    specFile,
    `name: bench\npython_version: "3.11"\nsource_root: ${JSON.stringify(root)}\nsource_copy_mode: ALL\n`,
  )
  outBase = mkdtempSync(path.join(tmpdir(), 'imagespec-bench-out-'))
  let outs = 0
  const fresh = () => path.join(outBase, `o${outs++}`)
  const md5sum = `xargs -0 md5sum < ${listFile} > /dev/null`
  const cases = [
    [
      'stream',
      1.5,
      'stream context (packContext)',
      stream,
      'tar -c (same files)',
      () => sh(`tar --null -T ${listFile} -cf - | cat > /dev/null`, root),
    ],
    [
      'digest',
      1.3,
      'digest (listSourceFiles)',
      () => listSourceFiles(root, 'ALL'),
      'md5sum (same tree)',
      () => sh(`find . -path ./.git -prune -o -type f -print0 | xargs -0 md5sum > /dev/null`, root),
    ],
    [
      'name',
      1.3,
      'imagespec name',
      () => imagespec(['name', specFile], root),
      'md5sum (same files)',
      () => sh(md5sum, root),
    ],
    [
      'render',
      1.1,
      'imagespec render --out',
      () => imagespec(['render', specFile, '--out', fresh()], root),
      'md5sum + tar c | tar x (same files)',
      () =>
        sh(
          `${md5sum} && mkdir ${fresh()} && tar --null -T ${listFile} -cf - | tar -xf - -C ${path.join(outBase, `o${outs - 1}`)}`,
          root,
        ),
    ],
  ]
  const rows = []
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')
  const loadBefore = load()
  for (const [key, target, nameA, a, nameB, b] of cases) {
    if (!CASES.includes(key)) continue
    await a()
    await b() // warm the page cache
    const ta = [],
      tb = []
    for (let k = 0; k < ITER; k++) {
      ta.push(await time(a))
      tb.push(await time(b))
    }
    rmSync(outBase, { recursive: true, force: true })
    mkdirSync(outBase)
    const ratio = median(ta) / median(tb)
    rows.push({
      ours: nameA,
      'median ms': median(ta).toFixed(1),
      baseline: nameB,
      'baseline ms': median(tb).toFixed(1),
      ratio: ratio.toFixed(2),
      target: `<= ${target}`,
      ok: ratio <= target ? 'OK' : 'MISSED',
    })
  }
  const tar = bytes > 0 ? `, ${(bytes / (ITER + 1) / 1048576).toFixed(1)} MiB tar per run` : ''
  process.stdout.write(
    `${N} generated files, ${files.length} after ignore rules${tar}, ${ITER} iterations each; load average ${loadBefore} before, ${load()} after (${availableParallelism()} cores)\n`,
  )
  console.table(rows)
} finally {
  // The file list, the spec and the output directories sit beside root (a failed case leaves them too).
  for (const p of [`${root}.list`, `${root}.yaml`, outBase])
    if (p) rmSync(p, { recursive: true, force: true })
  rmSync(root, { recursive: true, force: true })
}
