// The real services behind the default builder (and the local existence check), loaded on first use so that commands
// which never build (or find the image already built) do not load the Docker driver.
import type { BuildkitDriver, DockerDriver } from '@imagespec/docker'
import type { DefaultBuilderDeps } from './default-builder.js'
import { Fleet, isLocalAddress, loadFleetFile, type FleetMember } from './fleet.js'

type Env = Readonly<Record<string, string | undefined>>

let driverPromise: Promise<DockerDriver | BuildkitDriver> | undefined
/** The Docker Engine API driver, or BuildKit's control API when BUILDKIT_HOST is set (then no /build call). */
export const driver = (): Promise<DockerDriver | BuildkitDriver> =>
  (driverPromise ??= import('@imagespec/docker').then(
    ({ createBuildkitClient, createDockerClient }) =>
      process.env.BUILDKIT_HOST ? createBuildkitClient() : createDockerClient(),
  ))

/** The labels of an image in the local engine's store; undefined when the engine does not have it. */
export async function localImageLabels(ref: string): Promise<Record<string, string> | undefined> {
  return (await (await driver()).inspectImage(ref))?.labels
}

/**
 * The labels of an image: from the local engine's store when it has the image (or no engine answers), else from its
 * registry (the manifest and the config blob; nothing is pulled). Undefined when neither has it.
 */
export async function imageLabels(
  ref: string,
): Promise<{ labels: Record<string, string>; from: 'engine' | 'registry' } | undefined> {
  let local: Record<string, string> | undefined
  try {
    local = await localImageLabels(ref)
  } catch {
    local = undefined // no engine here: the registry may still have it
  }
  if (local) return { labels: local, from: 'engine' }
  const { createRegistryWriter } = await import('@imagespec/registry')
  const reader = createRegistryWriter()
  try {
    const labels = await reader.imageLabels(ref)
    return labels && { labels, from: 'registry' }
  } finally {
    reader.close()
  }
}

async function auth(registry: string) {
  const { resolveCredentials } = await import('@imagespec/registry')
  return resolveCredentials(registry)
}

/**
 * A BuildKit driver as a fleet member: builds through BuildKit's control API. On a Docker engine's BuildKit
 * (`dockerd+…`) the image lands in that engine's store, and push, tag and remove go through its Engine API, as for an
 * Engine API member.
 */
function buildkitMember(d: BuildkitDriver): FleetMember {
  const address = d.endpoint.address
  return {
    address,
    local: isLocalAddress(address),
    pushesByDigest: d.endpoint.kind !== 'dockerd',
    ping: (timeoutMs) => d.ping(timeoutMs),
    build: (o) => d.build(o),
    push: (ref, o) => d.push(ref, o),
    tag: (source, ref) => d.tag(source, ref),
    removeImage: (ref, o) => d.removeImage(ref, o),
  }
}

/** A Docker Engine API driver as a fleet member. */
function member(d: DockerDriver): FleetMember {
  return {
    address: d.host.address,
    local: isLocalAddress(d.host.address),
    ping: (timeoutMs) => d.ping(timeoutMs),
    build: (o) => d.build(o),
    push: (ref, o) => d.push(ref, o),
    tag: (source, ref) => d.tag(source, ref),
    removeImage: (ref, o) => d.removeImage(ref, o),
  }
}

/** The fleet file's engines, else the one engine of DOCKER_HOST (or the docker context) with its own platform. */
async function fleet(file: string | undefined, env: Env): Promise<Fleet> {
  const { createBuildkitClient, createDockerClient } = await import('@imagespec/docker')
  // Multi-platform builds go through the Engine API (tag, push by digest through the relay), also with BUILDKIT_HOST.
  if (!file)
    return new Fleet([{ member: member(createDockerClient()), platforms: [], maxBuilds: 1 }])
  const entries = await loadFleetFile(file)
  return new Fleet(
    entries.map((e) => ({
      member: e.buildkit
        ? buildkitMember(createBuildkitClient({ host: e.host, env: { ...env } }))
        : member(createDockerClient({ host: e.host, env: { ...env } })),
      platforms: e.platforms,
      maxBuilds: e.maxBuilds,
    })),
  )
}

async function writer(env: Env) {
  const { createRegistryWriter } = await import('@imagespec/registry')
  return createRegistryWriter({ env })
}

export const defaultDeps: DefaultBuilderDeps = {
  contextPlan: async (loaded, settings) =>
    (await import('./context.js')).createContextPlan(loaded, settings),
  packContext: async (plan) => (await import('@imagespec/dockerfile')).packContext(plan),
  driver,
  auth,
  fleet,
  writer,
}
