import { readFileSync } from 'node:fs'
import ejs from 'ejs'
import {
  ImagespecError,
  dictEntries,
  pyStr,
  type EnvValue,
  type InstallPlan,
  type RunMount,
} from '@imagespec/spec'
import { copyArgs, envPair, pyJsonList, shellQuote } from './_quote.js'
import { CONT, renderMount, renderSlot, renderStep } from './_steps.js'
import type { RenderSettings } from './settings.js'

/** One `copy` entry, as a normalised relative POSIX path. */
export interface CopyEntry {
  path: string
  isDirectory: boolean
}

/** Everything the Dockerfile is made of: spec-derived values plus the install plan. */
export interface RenderInput {
  baseImage: string
  install: InstallPlan
  /**
   * The spec's `env`, in the author's order (flytekit puts `PYTHONPATH=/root` first; a user PYTHONPATH replaces its
   * value in place). A value that is not a string is written as Python's `str()` of it (`False`, `1`, `None`).
   */
  env: Record<string, EnvValue> | null
  aptPackages: readonly string[] | null
  /** Whether `./src` (the source_root copy) is in the context. */
  copySource: boolean
  entrypoint: readonly string[] | null
  copies: readonly CopyEntry[]
  commands: readonly string[] | null
  /** The spec's `id` (flytekit's raw id, `-` kept), written as the last `ENV _F_IMG_ID=`. */
  imageId: string
}

// Builds embed the template text (tsup `define`, see tools/tsup.base.ts), so a bundle that inlines this package needs
// no file beside it; from the sources it is read from templates/.
declare const __IMAGESPEC_DOCKERFILE_TEMPLATE__: string | undefined
const TEMPLATE_NAME = 'Dockerfile.ejs'
const templateText = (): string =>
  typeof __IMAGESPEC_DOCKERFILE_TEMPLATE__ === 'string'
    ? __IMAGESPEC_DOCKERFILE_TEMPLATE__
    : readFileSync(new URL('../templates/Dockerfile.ejs', import.meta.url), 'utf8')
let compiled: ejs.TemplateFunction | undefined

const MULTILINE = new Set(['aptInstall', 'installPython', 'installPackages', 'extraCopies'])
const OTHER_BREAKS = /[\r\v\f\u0085\u2028\u2029]/
const APT_CACHE: RunMount = { type: 'cache', target: '/var/cache/apt', id: 'apt' }

/** Renders the default Dockerfile: flytekit's layers in flytekit's order (reference section 10.2). */
export function renderDockerfile(input: RenderInput, settings: RenderSettings): string {
  compiled ??= ejs.compile(templateText(), { filename: TEMPLATE_NAME })
  const { python, packages } = input.install
  const cache = settings.cacheMounts
  const env: [string, string][] = [['PYTHONPATH', '/root']]
  for (const [key, value] of dictEntries(input.env ?? {})) {
    if (key === 'PYTHONPATH') env[0][1] = pyStr(value)
    else env.push([key, pyStr(value)])
  }
  const commandMounts = packages.commandMounts
    .filter((m) => cache || m.type !== 'cache')
    .map(renderMount)
    .join(CONT)
  const userCommands = (input.commands ?? []).join(' && ')
  const seen = new Set<string>()
  const data = {
    syntax: settings.syntax,
    stages: [...packages.stages, ...python.stages].filter(
      (s) => !seen.has(s.alias) && seen.add(s.alias),
    ),
    baseImage: input.baseImage,
    aptInstall: input.aptPackages?.length
      ? renderSlot(
          [
            {
              kind: 'run',
              mounts: [APT_CACHE],
              command: [
                'apt-get update && apt-get install -y --no-install-recommends',
                input.aptPackages.map(shellQuote).join(' '),
              ],
            },
          ],
          cache,
        )
      : '',
    caCertificates: python.caCertificatesFrom
      ? renderStep(
          {
            kind: 'run',
            mounts: [
              {
                type: 'from',
                from: python.caCertificatesFrom,
                source: '/etc/ssl/certs/ca-certificates.crt',
                target: '/tmp/ca-certificates.crt',
              },
            ],
            command: [
              '[ -f /etc/ssl/certs/ca-certificates.crt ] ||',
              'mkdir -p /etc/ssl/certs/ && cp /tmp/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt',
            ],
          },
          cache,
        )
      : '',
    installPython: renderSlot(python.steps, cache),
    pathPrefix: python.pathPrefix,
    python: python.python,
    env: env.map(([k, v]) => envPair(k, v)).join(' '),
    installPackages: renderSlot(packages.steps, cache),
    entrypoint: input.entrypoint === null ? '' : `ENTRYPOINT ${pyJsonList(input.entrypoint)}`,
    copySource: input.copySource ? 'COPY --chown=flytekit ./src /root' : '',
    extraCopies: input.copies
      .map(({ path, isDirectory }) => {
        if (path.includes('\n'))
          throw new ImagespecError('E_TEMPLATE', 'A copy path holds a line break')
        const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '.'
        return `COPY --chown=flytekit ${copyArgs([path, `/root/${isDirectory ? path : parent}/`])}`
      })
      .join('\n'),
    // flytekit always emits this RUN (with the helper mounts, even without commands); without mounts it is dropped when empty.
    commands: commandMounts
      ? `RUN ${commandMounts} ${userCommands}`
      : userCommands && `RUN ${userCommands}`,
    imageId: input.imageId,
  }
  for (const [slot, value] of Object.entries(data)) {
    const lines = typeof value === 'string' ? value.replace(/\n$/, '').split('\n') : []
    if ((!MULTILINE.has(slot) && lines.length > 1) || lines.some((l) => OTHER_BREAKS.test(l)))
      throw new ImagespecError(
        'E_TEMPLATE',
        `Dockerfile slot ${slot} holds a line break that would start a new instruction`,
      )
  }
  return compiled(data)
}
