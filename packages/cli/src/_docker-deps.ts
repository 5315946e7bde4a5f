// Only in the binary (dist/imagespec.cjs): it inlines @imagespec/docker's code but not the Docker client and gRPC
// stack that package depends on (dockerode, @grpc/grpc-js, protobufjs, tar-stream). tsup.config.ts points their imports here, and
// they are required from where @imagespec/docker is installed, so this package declares none of them and their
// versions are the ones @imagespec/docker pins.
import { createRequire } from 'node:module'

let load: NodeJS.Require | undefined

/** Requires `id` as @imagespec/docker would (found through @imagespec/builder, which depends on it). */
export function requireDockerDependency(id: string): unknown {
  if (!load) {
    const builder = createRequire(__filename).resolve('@imagespec/builder/package.json')
    load = createRequire(createRequire(builder).resolve('@imagespec/docker/package.json'))
  }
  return load(id)
}
