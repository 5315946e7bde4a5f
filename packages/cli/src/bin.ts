#!/usr/bin/env node
import module from 'node:module'

// Node >= 22.1 keeps compiled code between runs, a large share of a quick command's time (Node 20 has no such API).
// It applies to modules loaded after this call: everything else is imported below.
;(module as { enableCompileCache?: () => unknown }).enableCompileCache?.()
const { main } = await import('./main.js')

// Ctrl-C aborts the running build through its AbortSignal (the build cleans up); a second Ctrl-C exits at once.
const abort = new AbortController()
process.on('SIGINT', () => {
  if (abort.signal.aborted) process.exit(130)
  abort.abort(new Error('interrupted'))
})

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  signal: abort.signal,
})
process.exitCode = code
