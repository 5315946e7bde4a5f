// The real services behind the default builder (and the local existence check), loaded on first use so that commands
// which never build (or find the image already built) do not load the Docker driver.
import type { DockerDriver } from '@imagespec/docker'
import type { DefaultBuilderDeps } from './default-builder.js'

let driverPromise: Promise<DockerDriver> | undefined
export const driver = (): Promise<DockerDriver> =>
  (driverPromise ??= import('@imagespec/docker').then(({ createDockerClient }) => createDockerClient()))

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
