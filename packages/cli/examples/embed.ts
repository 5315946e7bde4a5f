// Runs imagespec commands in-process, as another tool embedding the CLI would: the output and the exit status come
// back instead of being printed by a child process.
// Run from the repository root: pnpm exec tsx --conditions=@imagespec/source packages/cli/examples/embed.ts
import { fileURLToPath } from 'node:url'
import { main, type Io } from '@imagespec/cli'

const spec = fileURLToPath(new URL('../../../examples/hello/imagespec.yaml', import.meta.url))
let out = ''
let err = ''
const io: Io = {
  stdout: { write: (s) => void (out += s) },
  stderr: { write: (s) => void (err += s) },
  stdin: process.stdin,
  env: { ...process.env, FORCE_COLOR: '0' }, // plain text, whatever the environment asks: the output is kept as a string
  cwd: process.cwd(),
  signal: new AbortController().signal,
}
const code = await main(['name', spec], io)
console.log(`exit ${code}: ${out.trim()}`)
const bad = await main(['name', '/nonexistent/spec.yaml'], io)
console.log(`exit ${bad}: ${err.trim().split('\n')[0]}`)
