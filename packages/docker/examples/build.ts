// Talks to a Docker engine (DOCKER_HOST, else /var/run/docker.sock): pings it, builds a two-line Dockerfile with
// BuildKit from a context streamed as a tar, and prints the image id and the steps BuildKit ran or took from its cache.
// Run from the repository root: pnpm exec tsx --conditions=@imagespec/source packages/docker/examples/build.ts
import { Readable } from 'node:stream'
import { pack } from 'tar-stream'
import { createDockerClient } from '@imagespec/docker'

const docker = createDockerClient()
const engine = await docker.ping() // throws E_ENGINE_UNAVAILABLE when the engine is absent or refuses
console.log(`engine ${engine.version} (${engine.os}/${engine.arch})`)
const dockerfile =
  'FROM localhost:5000/imagespec/python-base:3.11\nRUN python3 -c "print(6 * 7)" > /answer\n'
const context = pack() // a build context is a tar stream; @imagespec/dockerfile's packContext makes one from a plan
context.entry({ name: 'Dockerfile' }, dockerfile)
context.finalize()
const result = await docker.build({
  context: Readable.from(context),
  tags: ['imagespec-example/docker:latest'],
  onEvent: (e) => e.type === 'log' && process.stderr.write(`${e.line}\n`),
})
console.log(`built ${result.imageId} ${JSON.stringify(result.steps)}`)
