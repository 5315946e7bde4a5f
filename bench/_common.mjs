// Helpers shared by the build benchmarks.
import { spawn } from 'node:child_process'

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Runs a command asynchronously (a package index may answer from this process) and times it. */
export function timed(cmd, args, env) {
  return new Promise((done, fail) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', fail)
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      if (code !== 0)
        fail(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${stdout}\n${stderr}`))
      else done({ ms, stdout, stderr })
    })
  })
}
