import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  defineBuilder,
  isLoopbackHost,
  parseReference,
  type BuildContextPlan,
  type BuilderContext,
  type BuildRequest,
} from '@imagespec/spec'
import { absoluteMountTargets, fromImages } from './_dockerfile.js'
import { runBuildah } from './_run.js'

/** Settings of the buildah builder; each falls back to an environment variable, then to the default shown. */
export interface BuildahOptions {
  /** The buildah executable (`IMAGESPEC_BUILDAH`, default `buildah`). */
  buildah?: string
  /** `--storage-driver` (`IMAGESPEC_BUILDAH_STORAGE_DRIVER`, default `vfs`: works anywhere, also in containers). */
  storageDriver?: string
  /** `--isolation` of RUN steps (`IMAGESPEC_BUILDAH_ISOLATION`, default `chroot`: no user namespaces needed). */
  isolation?: string
  /** `--root`, buildah's image store (`IMAGESPEC_BUILDAH_ROOT`, default buildah's own). */
  root?: string
  /** `--runroot` (`IMAGESPEC_BUILDAH_RUNROOT`, default buildah's own). */
  runroot?: string
}

type Env = Readonly<Record<string, string | undefined>>

/** Settings the engine passes in `req.settings` that this builder reads (see @imagespec/builder's BuildSettings). */
interface EngineSettings {
  network?: string
  labels?: Record<string, string>
  render?: Record<string, unknown>
}

/** The registry of an image reference (spec's grammar); undefined for what is not one (e.g. an ARG in a FROM line). */
function registryOf(ref: string): string | undefined {
  try {
    return parseReference(ref).registry
  } catch {
    return undefined
  }
}

/** Loopback registries are plain HTTP here, as the Docker engine treats 127.0.0.0/8 as insecure by default. */
const insecure = (refs: readonly string[]) =>
  refs.length > 0 &&
  refs.every((r) => isLoopbackHost(registryOf(r) ?? '', { registry: true, ignoreCase: true }))

function globals(o: BuildahOptions, env: Env): string[] {
  const argv = [o.buildah ?? env.IMAGESPEC_BUILDAH ?? 'buildah']
  argv.push('--storage-driver', o.storageDriver ?? env.IMAGESPEC_BUILDAH_STORAGE_DRIVER ?? 'vfs')
  const root = o.root ?? env.IMAGESPEC_BUILDAH_ROOT
  const runroot = o.runroot ?? env.IMAGESPEC_BUILDAH_RUNROOT
  if (root) argv.push('--root', root)
  if (runroot) argv.push('--runroot', runroot)
  return argv
}

const platformsOf = (req: BuildRequest) =>
  req.loaded.spec.platform
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)

/** `buildah bud …` for a request whose context is in `dir`. */
export function budArgv(
  req: BuildRequest,
  plan: BuildContextPlan,
  dir: string,
  o: BuildahOptions,
  env: Env,
): string[] {
  const s = req.settings as EngineSettings
  const platforms = platformsOf(req)
  const argv = [...globals(o, env), 'bud', '--format', 'docker']
  argv.push('--isolation', o.isolation ?? env.IMAGESPEC_BUILDAH_ISOLATION ?? 'chroot')
  if (insecure(fromImages(plan.dockerfile))) argv.push('--tls-verify=false')
  if (s.network) argv.push('--network', s.network)
  argv.push('--platform', platforms.join(','))
  for (const [k, v] of Object.entries(s.labels ?? {})) argv.push('--label', `${k}=${v}`)
  for (const secret of plan.secrets)
    argv.push('--secret', `id=${secret.id},src=${resolve(req.loaded.cwd, secret.src)}`)
  // Several platforms build into a manifest list (one image per platform); one platform tags a plain image.
  argv.push(
    platforms.length > 1 ? '--manifest' : '--tag',
    req.imageName,
    '--file',
    join(dir, 'Dockerfile'),
    dir,
  )
  return argv
}

/** `buildah push …` (or `manifest push --all` for several platforms) of the built image to its registry. */
export function pushArgv(
  req: BuildRequest,
  o: BuildahOptions,
  env: Env,
  digestFile: string,
): string[] {
  const multi = platformsOf(req).length > 1
  const argv = [...globals(o, env), ...(multi ? ['manifest', 'push', '--all'] : ['push'])]
  if (insecure([req.imageName])) argv.push('--tls-verify=false')
  argv.push('--digestfile', digestFile, req.imageName, `docker://${req.imageName}`)
  return argv
}

/** The context settings the default builder would use, so that buildah builds the same Dockerfile and files. */
async function contextSettings(req: BuildRequest, ctx: BuilderContext) {
  const { resolveContextSettings } = await import('@imagespec/builder')
  const render = await resolveContextSettings(ctx.env, (req.settings as EngineSettings).render)
  return {
    ...render,
    imageId: req.imageId,
    onWarning: (text: string) => ctx.onEvent({ type: 'notice', level: 'warn', text }),
  }
}

/**
 * The buildah builder: renders the same context as the default builder (through @imagespec/builder's
 * `createDockerContext`), builds it with `buildah bud` (daemonless; RUN cache mounts and `pip_secret_mounts` secrets
 * as buildah supports them; several platforms as a manifest list) and pushes with `buildah push` when pushing is on.
 * Use it with `builder: "@imagespec/builder-buildah"` in a spec or `--builder-module @imagespec/builder-buildah`.
 */
export const buildahBuilder = defineBuilder((options: BuildahOptions | undefined) => {
  const o = options ?? {}
  return {
    name: 'buildah',
    contractVersion: 1,
    priority: 5,
    capabilities: { cacheMounts: true, secrets: true, multiPlatform: true, push: true },
    async describe(req, ctx) {
      const { createContextPlan } = await import('@imagespec/builder')
      const plan = await createContextPlan(req.loaded, await contextSettings(req, ctx))
      const push = req.push && Boolean(req.loaded.spec.registry)
      const dir = '<context>'
      const commands = [budArgv(req, plan, dir, o, ctx.env)]
      if (push) commands.push(pushArgv(req, o, ctx.env, '<digestfile>'))
      return {
        dockerfile: absoluteMountTargets(plan.dockerfile),
        command: commands.map((c) => c.join(' ')).join(' && '),
      }
    },
    async build(req, ctx) {
      const { createDockerContext } = await import('@imagespec/builder')
      const dir = await mkdtemp(join(tmpdir(), 'imagespec-buildah-'))
      try {
        const plan = await createDockerContext(req.loaded, dir, await contextSettings(req, ctx))
        const dockerfile = absoluteMountTargets(plan.dockerfile)
        if (dockerfile !== plan.dockerfile) {
          await writeFile(join(dir, 'Dockerfile'), dockerfile)
        }
        const bud = budArgv(req, plan, dir, o, ctx.env)
        ctx.onEvent({ type: 'notice', level: 'info', text: `Run command: ${bud.join(' ')} ` })
        await runBuildah(bud, ctx, {
          code: 'E_BUILD_FAILED',
          message: `buildah could not build "${req.imageName}"`,
        })
        if (req.push && req.loaded.spec.registry) {
          const digestFile = join(dir, '.digest')
          await runBuildah(pushArgv(req, o, ctx.env, digestFile), ctx, {
            code: 'E_PUSH_FAILED',
            message: `buildah could not push "${req.imageName}"`,
          })
          const digest = (await readFile(digestFile, 'utf8')).trim()
          ctx.onEvent({ type: 'pushed', ref: req.imageName, digest })
        }
        return {}
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
})
