// Asks a registry, without a Docker engine, whether tags exist. Needs the loopback registry of the development set-up
// (127.0.0.1:5000; push an image to it first), or name references as arguments.
// Run from the repository root: pnpm exec tsx --conditions=@imagespec/source packages/registry/examples/probe.ts [REF...]
import { createProbe } from '@imagespec/registry'

const prober = createProbe({ timeoutMs: 5_000 })
try {
  const refs = process.argv.slice(2)
  if (refs.length === 0)
    refs.push(
      'localhost:5000/imagespec/python-base:3.11',
      'localhost:5000/imagespec/python-base:no-such-tag',
    )
  for (const ref of refs) {
    const answer = await prober.probe(ref)
    if (answer.status === 'exists') console.log(`${ref} exists ${answer.digest}`)
    else if (answer.status === 'missing') console.log(`${ref} missing`)
    else console.log(`${ref} unknown (${answer.reason}): ${answer.message}`)
  }
} finally {
  prober.close()
}
