// The real services behind the default builder (and the local existence check), loaded on first use so that commands
// which never build (or find the image already built) do not load the Docker driver.
import type { BuildkitDriver, DockerDriver } from '@imagespec/docker'
import type { DefaultBuilderDeps } from './default-builder.js'

let driverPromise: Promise<DockerDriver | BuildkitDriver> | undefined
/** The Docker Engine API driver, or BuildKit's control API when BUILDKIT_HOST is set (then no /build call). */
export const driver = (): Promise<DockerDriver | BuildkitDriver> =>
  (driverPromise ??= import('@imagespec/docker').then(({ createBuildkitClient, createDockerClient }) =>
    process.env.BUILDKIT_HOST ? createBuildkitClient() : createDockerClient(),
  ))

/** The labels of an image in the local engine's store; undefined when the engine does not have it. */
export async function localImageLabels(ref: string): Promise<Record<string, string> | undefined> {
  return (await (await driver()).inspectImage(ref))?.labels
}

async function auth(registry: string) {
  const { resolveCredentials } = await import('@imagespec/registry')
  return resolveCredentials(registry)
}

export const defaultDeps: DefaultBuilderDeps = {
  contextPlan: async (loaded, settings) => (await import('./context.js')).createContextPlan(loaded, settings),
  packContext: async (plan) => (await import('@imagespec/dockerfile')).packContext(plan),
  driver,
  auth,
}
