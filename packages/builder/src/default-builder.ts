import { resolve } from 'node:path'
import type { Readable } from 'node:stream'
import {
  defineBuilder,
  IMAGE_SPEC_FIELDS,
  ImagespecError,
  type BuildContextPlan,
  type BuildEvent,
  type BuilderContext,
  type BuildRequest,
  type ImageSpec,
  type LoadedSpec,
  type PushEvent,
  type RegistryCredentials,
} from '@imagespec/spec'
import { tagOf } from './_identity.js'
import { resolveContextSettings } from './build-context.js'
import type { ContextSettings } from './context.js'
import type { BuildSettings, CacheExport, CacheImport } from './settings.js'
import type { RegistryWriter } from '@imagespec/registry'
import type { Fleet } from './fleet.js'
import { platformsOf } from './_platforms.js'

/** What the default builder asks of the Docker driver (`@imagespec/docker`). */
export interface BuildDriver {
  build(options: {
    context: Readable
    tags: string[]
    platform?: string
    network?: string
    secrets?: Record<string, { src: string }>
    auth?: (registry: string) => Promise<RegistryCredentials | undefined>
    labels?: Record<string, string>
    cacheFrom?: readonly CacheImport[]
    cacheTo?: readonly CacheExport[]
    /** Push within the build where the driver can (a standalone buildkitd); it then reports `pushed`. */
    push?: boolean
    /** With `push`: by digest only, no tag (a standalone buildkitd's multi-platform children). */
    pushByDigest?: boolean
    signal?: AbortSignal
    onEvent?: (event: BuildEvent) => void
  }): Promise<{ pushed?: readonly { ref: string; digest: string; size?: number }[] }>
  push(
    ref: string,
    options: {
      auth?: (registry: string) => Promise<RegistryCredentials | undefined>
      signal?: AbortSignal
      onEvent?: (event: PushEvent) => void
    },
  ): Promise<unknown>
}

/** The services the default builder composes; the real ones are loaded lazily, tests inject fakes. */
export interface DefaultBuilderDeps {
  contextPlan(loaded: LoadedSpec, settings: Partial<ContextSettings>): Promise<BuildContextPlan>
  packContext(plan: BuildContextPlan, loaded: LoadedSpec): Readable | Promise<Readable>
  driver(): Promise<BuildDriver>
  /** Registry credentials by registry host (docker config, credential helpers), for FROM pulls and the push. */
  auth(registry: string): Promise<RegistryCredentials | undefined>
  /** The engines to build on: the fleet file's (`settings.engines`), else the one `driver()` talks to. */
  fleet(file: string | undefined, env: Env): Promise<Fleet>
  /** Registry reads and writes (indexes, pushes by digest), with the build's environment. */
  writer(env: Env): Promise<RegistryWriter>
}

type Env = Readonly<Record<string, string | undefined>>

/** Fields flytekit's DefaultImageBuilder lists as supported, plus those imagespec's default builder really reads. */
const SUPPORTED = new Set<string>([
  'id',
  'name',
  'python_version',
  'builder',
  'source_root',
  'source_copy_mode',
  'env',
  'registry',
  'packages',
  'conda_packages',
  'conda_channels',
  'requirements',
  'apt_packages',
  'platform',
  'cuda',
  'cudnn',
  'base_image',
  'pip_index',
  'pip_extra_index_url',
  'pip_secret_mounts',
  'commands',
  'copy',
  'python_exec',
  'builder_config',
  // read by imagespec although flytekit warns about them:
  'entrypoint',
  'pip_extra_args',
  'tag_format',
  'builder_options',
])

/** flytekit's unsupported-parameters list (without the spurious cached `tag`; see the README). */
export function unsupportedFields(spec: ImageSpec): string[] {
  return IMAGE_SPEC_FIELDS.filter((f) => spec[f] !== null && !SUPPORTED.has(f))
}

const pyList = (items: string[]) => `[${items.map((i) => `'${i}'`).join(', ')}]`

/** flytekit's warning about unsupported fields, or undefined when the spec sets none. */
export function unsupportedWarning(spec: ImageSpec): string | undefined {
  const unsupported = unsupportedFields(spec)
  return unsupported.length > 0
    ? `The following parameters are unsupported and ignored: ${pyList(unsupported)}`
    : undefined
}

/** flytekit's `docker build` argv for this request, with the context given as `-` (a tar stream). */
export function engineCall(req: BuildRequest, plan: BuildContextPlan, push: boolean): string[] {
  const argv = ['docker', 'build', '--tag', req.imageName, '--platform', req.loaded.spec.platform]
  for (const s of plan.secrets) argv.push('--secret', `id=${s.id},src=${s.src}`)
  const { network, cacheFrom = [], cacheTo = [] } = req.settings as Partial<BuildSettings>
  if (network) argv.push('--network', network)
  // Build caches as buildx writes them (flytekit has none: a spec without them keeps flytekit's command).
  for (const c of cacheFrom) argv.push('--cache-from', `type=${c.type},ref=${c.ref}`)
  for (const c of cacheTo)
    argv.push(
      '--cache-to',
      c.type === 'inline'
        ? 'type=inline'
        : `type=registry,ref=${c.ref}${c.mode ? `,mode=${c.mode}` : ''}`,
    )
  if (push) argv.push('--push')
  argv.push('-')
  return argv
}

const lazyDeps = async (): Promise<DefaultBuilderDeps> =>
  (await import('./_services.js')).defaultDeps

/**
 * The default builder: flytekit's DefaultImageBuilder over the Docker Engine API. Renders the context plan, checks
 * that the tag did not change meanwhile, streams the context to a BuildKit build (secrets from
 * `pip_secret_mounts`, platform from the spec), then pushes when the spec has a registry and pushing is on.
 */
export const defaultBuilder = defineBuilder((overrides: Partial<DefaultBuilderDeps> = {}) => {
  const deps = async (): Promise<DefaultBuilderDeps> => ({ ...(await lazyDeps()), ...overrides })

  async function prepare(req: BuildRequest, ctx: BuilderContext) {
    const { loaded } = req
    const d = await deps()
    const unsupported = unsupportedWarning(loaded.spec)
    if (unsupported) ctx.onEvent({ type: 'notice', level: 'warn', text: unsupported })
    const settings = req.settings as Partial<BuildSettings>
    const render = await resolveContextSettings(ctx.env, settings.render)
    const modules = render.loadedModules
    const initial = await tagOf(loaded, modules)
    const plan = await d.contextPlan(loaded, {
      ...render,
      imageId: req.imageId,
      onWarning: (text) => ctx.onEvent({ type: 'notice', level: 'warn', text }),
    })
    const now = await tagOf(loaded, modules)
    if (now !== initial) {
      throw new ImagespecError(
        'E_TAG_CHANGED',
        `Hash-based image tag changed from ${initial} to ${now} while creating the context,indicating the content has been modified. Aborting because image tag may not match what is built.`,
      )
    }
    const push = req.push && Boolean(loaded.spec.registry)
    return { d, plan, push, argv: engineCall(req, plan, push), settings }
  }

  return {
    name: 'default',
    contractVersion: 1,
    priority: 1,
    capabilities: { cacheMounts: true, secrets: true, multiPlatform: true, push: true },
    async describe(req, ctx) {
      const { d, plan, argv, push, settings } = await prepare(req, ctx)
      const wanted = platformsOf(req.loaded.spec.platform)
      if (wanted.length === 1 && !settings.engines)
        return { dockerfile: plan.dockerfile, command: argv.join(' ') }
      const { planPlatforms } = await import('./_platforms.js')
      const writer = await d.writer(ctx.env)
      try {
        const fleet = await d.fleet(settings.engines, ctx.env)
        const platforms = await planPlatforms(
          { req: { ...req, push }, ctx, deps: d, settings, fleet, writer },
          wanted,
        )
        return { platforms, dockerfile: plan.dockerfile, command: argv.join(' ') }
      } finally {
        writer.close()
      }
    },
    async build(req, ctx) {
      const { d, plan, push, argv, settings } = await prepare(req, ctx)
      const { loaded, imageName } = req
      ctx.onEvent({ type: 'notice', level: 'info', text: `Run command: ${argv.join(' ')} ` })
      // Secret files are read by the driver when the build starts, and served to BuildKit (never in the context).
      const secrets = Object.fromEntries(
        plan.secrets.map((s) => [s.id, { src: resolve(loaded.cwd, s.src) }]),
      )
      const auth = d.auth
      const wanted = platformsOf(loaded.spec.platform)
      if (wanted.length > 1) {
        if (!push)
          throw new ImagespecError(
            'E_USAGE',
            `Building ${wanted.length} platforms (${wanted.join(', ')}) needs a push to a registry`,
            {
              hint: "Set the spec's registry and keep pushing on (FLYTE_PUSH_IMAGE_SPEC, --push), or build one platform with --platform",
            },
          )
        const { buildPlatforms } = await import('./_platforms.js')
        const writer = await d.writer(ctx.env)
        try {
          const fleet = await d.fleet(settings.engines, ctx.env)
          return await buildPlatforms(
            { req: { ...req, push }, ctx, deps: d, plan, settings, secrets, fleet, writer },
            wanted,
          )
        } finally {
          writer.close()
        }
      }
      // One platform: today's build and push by tag, on DOCKER_HOST (or the fleet's engine for that platform).
      let driver: BuildDriver & { host?: { address?: string }; address?: string }
      if (settings.engines) {
        const fleet = await d.fleet(settings.engines, ctx.env)
        driver = fleet.assign(wanted, await fleet.live(ctx.onEvent), imageName).get(wanted[0]!)!
          .engine.member
      } else driver = await d.driver()
      // Only a fleet member is named; without a fleet the CLI reports DOCKER_HOST's engine, as before fleets.
      const engine = settings.engines ? (driver.address ?? driver.host?.address) : undefined
      const built = (await driver.build({
        context: await d.packContext(plan, loaded),
        tags: [imageName],
        platform: loaded.spec.platform,
        network: settings.network,
        secrets,
        auth,
        labels: settings.labels,
        cacheFrom: settings.cacheFrom,
        cacheTo: settings.cacheTo,
        push,
        signal: ctx.signal,
        onEvent: ctx.onEvent,
      })) as
        { imageId?: string; pushed?: { ref: string; digest: string; size?: number }[] } | undefined
      let digest: string | undefined
      if (push && built?.pushed) {
        for (const p of built.pushed) ctx.onEvent({ type: 'pushed', ...p })
        digest = built.pushed.at(-1)?.digest
      } else if (push)
        digest = (
          (await driver.push(imageName, { auth, signal: ctx.signal, onEvent: ctx.onEvent })) as
            { digest?: string } | undefined
        )?.digest
      digest ??= built?.imageId
      return {
        ...(digest && { digest }),
        platforms: { [loaded.spec.platform]: { status: 'built', ...(engine && { engine }) } },
      }
    },
  }
})
