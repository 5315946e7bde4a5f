// A fleet of build engines: which engine builds which platform (native first, then emulation), how many builds each
// runs at once, and failover past engines that are down. Read from the file named by IMAGESPEC_ENGINES / --engines.
import {
  ImagespecError,
  isImagespecError,
  isLoopbackHost,
  type BuilderEvent,
} from '@imagespec/spec'
import type { BuildDriver } from './default-builder.js'

/** One engine of a fleet file: `{ host, platforms?, max_builds?, buildkit? }`. */
export interface FleetEntry {
  /**
   * A DOCKER_HOST-style address: `unix:///…`, `tcp://host:port` (TLS with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH), `ssh://…`;
   * or a BuildKit address as BUILDKIT_HOST spells it: `dockerd+unix:///…` / `dockerd+tcp://…` (a Docker engine's
   * BuildKit, through its `/grpc`), or `unix:///…` / `tcp://…` with `buildkit: true` (a buildkitd).
   */
  host: string
  /** Built through BuildKit's control API (the BuildKit driver) rather than the Engine API's `/build`. */
  buildkit: boolean
  /** Platforms the engine builds natively (default: its own, from `/version`). */
  platforms: string[]
  /** Builds it runs at once (default 1). */
  maxBuilds: number
}

/**
 * What the fleet needs of one engine. The Docker Engine API driver implements it; another backend (a BuildKit
 * endpoint) can too: it builds a context for one platform, pushes a reference, and says what it runs on.
 */
export interface FleetMember extends BuildDriver {
  /** The engine's address, as reported in events and in `build --json`. */
  readonly address: string
  /** Whether the engine runs on this machine, so it reaches this machine's loopback (push by digest via a relay). */
  readonly local: boolean
  /**
   * The engine keeps no image store to push from (a standalone buildkitd): a multi-platform child is built and pushed
   * by digest in one step (`build` with `push` and `pushByDigest`), with no relay and no temporary tag.
   */
  readonly pushesByDigest?: boolean
  /** Answers (throws `E_ENGINE_UNAVAILABLE` when down); resolves the engine's own `os` and `arch`. */
  ping(timeoutMs?: number): Promise<{ os: string; arch: string }>
  /** Names a local image `ref`. */
  tag(source: string, ref: string): Promise<void>
  /** Removes a local name (the image stays while other names or the build cache hold it). */
  removeImage(ref: string, options?: { force?: boolean }): Promise<boolean>
}

export interface FleetEngine {
  member: FleetMember
  /** Declared platforms, else the engine's own. */
  platforms: string[]
  maxBuilds: number
}

export interface Assignment {
  engine: FleetEngine
  /** No live engine declares the platform: it builds under emulation. */
  emulated: boolean
}

/**
 * Reads a fleet file (YAML or JSON): `{"engines": [{"host", "platforms", "max_builds", "buildkit"}]}`.
 * `E_CONFIG_INVALID` lists every problem.
 */
export async function loadFleetFile(file: string): Promise<FleetEntry[]> {
  const { readFile } = await import('node:fs/promises')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw new ImagespecError('E_CONFIG_INVALID', `Cannot read the engines file "${file}"`, {
      cause,
      field: 'IMAGESPEC_ENGINES',
    })
  }
  let doc: unknown
  try {
    doc = (await import('yaml')).parse(text) // JSON is YAML
  } catch (cause) {
    throw new ImagespecError(
      'E_CONFIG_INVALID',
      `The engines file "${file}" is not YAML or JSON: ${(cause as Error).message.split('\n')[0]}`,
      { cause, field: 'IMAGESPEC_ENGINES' },
    )
  }
  return parseFleet(doc, file)
}

const PLATFORM = /^[a-z0-9._-]+\/[a-z0-9._-]+(?:\/[a-z0-9._-]+)?$/i

/** Checks a parsed fleet document; one detail line per problem. */
export function parseFleet(doc: unknown, file = 'engines file'): FleetEntry[] {
  const problems: string[] = []
  const engines = (doc as { engines?: unknown } | null)?.engines
  if (!Array.isArray(engines) || engines.length === 0)
    problems.push('engines: must be a non-empty list')
  const out: FleetEntry[] = []
  for (const [i, raw] of (Array.isArray(engines) ? engines : []).entries()) {
    const e = raw as Record<string, unknown> | null
    const at = `engines[${i}]`
    if (typeof e !== 'object' || e === null) {
      problems.push(`${at}: must be a mapping with "host"`)
      continue
    }
    for (const key of Object.keys(e))
      if (!['host', 'platforms', 'max_builds', 'buildkit'].includes(key))
        problems.push(`${at}.${key}: unknown field`)
    if (typeof e.host !== 'string' || !e.host.trim())
      problems.push(`${at}.host: must be a Docker host address such as unix:///var/run/docker.sock`)
    const host = typeof e.host === 'string' ? e.host.trim() : ''
    const viaEngine = host.startsWith('dockerd+')
    if (e.buildkit !== undefined && typeof e.buildkit !== 'boolean')
      problems.push(`${at}.buildkit: must be true or false`)
    const buildkit = e.buildkit === true || viaEngine
    if (e.buildkit === false && viaEngine)
      problems.push(
        `${at}.buildkit: a dockerd+ host is a Docker engine's BuildKit; drop "buildkit: false", or drop "dockerd+" to use the Engine API`,
      )
    else if (buildkit && host && !/^(?:dockerd\+unix|dockerd\+tcp|unix|tcp):\/\/./.test(host))
      problems.push(
        `${at}.host: a BuildKit endpoint is unix:///…, tcp://host:port, dockerd+unix:///… or dockerd+tcp://host:port`,
      )
    const platforms = e.platforms ?? []
    if (
      !Array.isArray(platforms) ||
      !platforms.every((p) => typeof p === 'string' && PLATFORM.test(p))
    )
      problems.push(`${at}.platforms: must be a list of os/arch[/variant], e.g. ["linux/arm64"]`)
    const max = e.max_builds ?? 1
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1)
      problems.push(`${at}.max_builds: must be a positive integer`)
    if (typeof e.host === 'string' && Array.isArray(platforms) && typeof max === 'number')
      out.push({ host, platforms: platforms as string[], maxBuilds: max, buildkit })
  }
  if (problems.length)
    throw new ImagespecError('E_CONFIG_INVALID', `Invalid engines file "${file}"`, {
      details: problems,
      field: 'IMAGESPEC_ENGINES',
    })
  return out
}

/** Whether a Docker host or BuildKit address is on this machine (unix socket, or tcp to a loopback address). */
export function isLocalAddress(address: string): boolean {
  address = address.replace(/^dockerd\+/, '')
  if (address.startsWith('unix://')) return true
  const m = /^(?:tcp|http|https):\/\/(\[[^\]]+\]|[^:/]+)/.exec(address)
  const host = m?.[1]?.replace(/^\[(.*)\]$/, '$1')
  return host !== undefined && isLoopbackHost(host) // a name such as 127.0.0.1.example.com is not
}

/**
 * The engines of one process: pinged once (down ones skipped with a warning), builds limited per engine by
 * `maxBuilds`, platforms assigned native first, then to any live engine (emulation), least loaded first.
 */
export class Fleet {
  private liveEngines?: Promise<FleetEngine[]>
  private readonly running = new Map<FleetEngine, number>()
  private readonly waiting = new Map<FleetEngine, (() => void)[]>()
  private readonly dead = new Set<FleetMember>()

  constructor(
    private readonly members: readonly {
      member: FleetMember
      platforms: readonly string[]
      maxBuilds: number
    }[],
  ) {}

  /** The engines that answered a ping (each asked once per fleet); a down engine is reported through `warn`. */
  live(warn: (event: BuilderEvent) => void): Promise<FleetEngine[]> {
    this.liveEngines ??= Promise.all(
      this.members.map(async ({ member, platforms, maxBuilds }) => {
        try {
          const info = await member.ping(3_000)
          return {
            member,
            maxBuilds,
            platforms: platforms.length ? [...platforms] : [`${info.os || 'linux'}/${info.arch}`],
          }
        } catch (e) {
          warn({
            type: 'notice',
            level: 'warn',
            text: `Engine ${member.address} is unavailable and is skipped: ${isImagespecError(e) ? e.message : String(e)}`,
          })
          return undefined
        }
      }),
    ).then((all) => all.filter((e): e is FleetEngine => e !== undefined))
    return this.liveEngines.then((all) => all.filter((e) => !this.dead.has(e.member)))
  }

  /** Marks an engine that failed to connect mid-run as down for the rest of this fleet's life. */
  markDown(engine: FleetEngine): void {
    this.dead.add(engine.member)
  }

  /**
   * Native engines first (those declaring the platform), else every live engine (emulation); least loaded wins. Among
   * equally loaded engines the choice is sticky per `key` (the image name, i.e. the spec's tag): the engine whose
   * address hashes highest with the key and platform (rendezvous hashing), so the same spec goes to the same engine
   * and finds its build cache there, whatever the order of the fleet file, and only the specs of an engine that is
   * down move elsewhere. Without a key, the first of the fleet file.
   */
  assign(
    platforms: readonly string[],
    live: readonly FleetEngine[],
    key?: string,
  ): Map<string, Assignment> {
    if (live.length === 0)
      throw new ImagespecError('E_ENGINE_UNAVAILABLE', 'No build engine is available', {
        hint: 'Start an engine, or fix the hosts in IMAGESPEC_ENGINES / --engines',
      })
    const load = new Map<FleetEngine, number>(live.map((e) => [e, this.running.get(e) ?? 0]))
    const out = new Map<string, Assignment>()
    for (const platform of platforms) {
      const native = live.filter((e) => e.platforms.some((p) => samePlatform(p, platform)))
      const candidates = native.length ? native : live
      const share = (e: FleetEngine) => load.get(e)! / e.maxBuilds
      const score = (e: FleetEngine) => (key === undefined ? '' : stickiness(key, platform, e))
      const engine = candidates.reduce((a, b) =>
        share(b) < share(a) || (share(b) === share(a) && score(b) > score(a)) ? b : a,
      )
      load.set(engine, load.get(engine)! + 1)
      out.set(platform, { engine, emulated: native.length === 0 })
    }
    return out
  }

  /** Runs `work` when `engine` has a free build slot (`maxBuilds` at once). */
  async run<T>(engine: FleetEngine, work: () => Promise<T>): Promise<T> {
    while ((this.running.get(engine) ?? 0) >= engine.maxBuilds) {
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(engine) ?? []
        queue.push(resolve)
        this.waiting.set(engine, queue)
      })
    }
    this.running.set(engine, (this.running.get(engine) ?? 0) + 1)
    try {
      return await work()
    } finally {
      this.running.set(engine, this.running.get(engine)! - 1)
      this.waiting.get(engine)?.shift()?.()
    }
  }
}

/** `linux/arm64` matches `linux/arm64/v8`; `linux/amd64` matches `linux/x86_64`. */
export function samePlatform(a: string, b: string): boolean {
  const norm = (p: string) => {
    const [os = '', arch = '', variant = ''] = p.toLowerCase().split('/')
    const ar = arch === 'x86_64' ? 'amd64' : arch === 'aarch64' ? 'arm64' : arch
    return { os, arch: ar, variant: ar === 'arm64' && variant === 'v8' ? '' : variant }
  }
  const x = norm(a)
  const y = norm(b)
  return (
    x.os === y.os &&
    x.arch === y.arch &&
    (x.variant === '' || y.variant === '' || x.variant === y.variant)
  )
}

type Crypto = typeof import('node:crypto')
let crypto: Crypto | undefined

/**
 * The rendezvous weight of an engine for a key and platform: a hex SHA-256 of the three. node:crypto is loaded here,
 * not at import: every build imports this module (platform matching), and a build that finds its image picks no
 * engine and should not pay ~5 ms for loading it.
 */
function stickiness(key: string, platform: string, engine: FleetEngine): string {
  crypto ??= process.getBuiltinModule('node:crypto') as Crypto
  return crypto
    .createHash('sha256')
    .update(`${key}\n${platform}\n${engine.member.address}`)
    .digest('hex')
}
