// Reads a test log and prints one closing line "tests: N passed, N failed, N skipped" from vitest's summaries.
// Exits 1 when no test ran at all.
import { readFileSync } from 'node:fs'

const text = readFileSync(process.argv[2], 'utf8').replace(/\x1b\[[0-9;]*m/g, '')
let passed = 0,
  failed = 0,
  skipped = 0
for (const m of text.matchAll(/^\s*Tests\s+(.*)\(\d+\)\s*$/gm)) {
  for (const part of m[1].split('|')) {
    const n = /(\d+)\s+(passed|failed|skipped|todo)/.exec(part)
    if (!n) continue
    if (n[2] === 'passed') passed += +n[1]
    else if (n[2] === 'failed') failed += +n[1]
    else skipped += +n[1]
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
if (passed === 0) process.exitCode = 1
