import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, relative, resolve } from 'node:path'
import { ImagespecError } from '@imagespec/spec'
import type { Io } from '../io.js'
import type { GlobalOptions } from '../main.js'

export interface InitFlags {
  from?: string
  out?: string
  force?: boolean
  json?: boolean
}

const SCHEMA_URL = 'https://unpkg.com/@imagespec/spec/schema.json'

/** A valid image name from a directory or project name (flytekit lower-cases it; Docker allows [a-z0-9._-]). */
const imageNameOf = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'app'

const yamlString = (s: string) => JSON.stringify(s)

/** The schema reference for the yaml-language-server line: the installed package when there is one, else unpkg. */
function schemaRef(outDir: string): string {
  for (let dir = outDir; ; dir = dirname(dir)) {
    const file = resolve(dir, 'node_modules/@imagespec/spec/schema.json')
    if (existsSync(file)) {
      const rel = relative(outDir, file)
      return rel.startsWith('.') ? rel : `./${rel}`
    }
    if (dirname(dir) === dir) return SCHEMA_URL
  }
}

interface Source {
  name?: string
  python?: string
  lines: string[]
}

/** What `--from` contributes: a requirements/lock file as `requirements`, or pyproject.toml's dependencies as packages. */
async function fromFile(io: Io, file: string, outDir: string): Promise<Source> {
  const abs = resolve(io.cwd, file)
  if (!existsSync(abs))
    throw new ImagespecError('E_USAGE', `File "${file}" not found`, {
      hint: 'Give --from a requirements.txt, pyproject.toml or uv.lock',
    })
  const rel = relative(outDir, abs).split('\\').join('/')
  const base = basename(abs)
  if (base === 'pyproject.toml') {
    const { parse } = await import('smol-toml')
    let doc: { project?: { name?: unknown; dependencies?: unknown; 'requires-python'?: unknown } }
    try {
      doc = parse(readFileSync(abs, 'utf8')) as typeof doc
    } catch (cause) {
      throw new ImagespecError('E_USAGE', `Cannot parse "${file}"`, {
        cause,
        hint: 'It must be valid TOML',
      })
    }
    const deps = Array.isArray(doc.project?.dependencies)
      ? doc.project.dependencies.filter((d): d is string => typeof d === 'string')
      : []
    const py = /(\d+\.\d+)/.exec(String(doc.project?.['requires-python'] ?? ''))?.[1]
    return {
      name: typeof doc.project?.name === 'string' ? doc.project.name : undefined,
      python: py,
      lines: deps.length
        ? [
            '# From [project].dependencies of ' + rel + ':',
            'packages:',
            ...deps.map((d) => `  - ${yamlString(d)}`),
          ]
        : [`# ${rel} lists no [project].dependencies.`, '# packages: [numpy]'],
    }
  }
  if (base === 'poetry.lock' || base === 'uv.lock')
    return {
      lines: [
        `# ${base}: installed with its pyproject.toml (which must sit beside it), as flytekit does.`,
        `requirements: ${yamlString(rel)}`,
      ],
    }
  return {
    lines: [
      '# A requirements file; its content is hashed into the tag.',
      `requirements: ${yamlString(rel)}`,
    ],
  }
}

/**
 * `imagespec init [--from requirements.txt|pyproject.toml|uv.lock] [--out imagespec.yaml] [--force]`: writes a
 * commented spec that validates, with a yaml-language-server `$schema` line for editors.
 */
export async function initCommand(
  io: Io,
  _g: GlobalOptions,
  _arg: undefined,
  flags: InitFlags,
): Promise<number> {
  const out = resolve(io.cwd, flags.out ?? 'imagespec.yaml')
  if (existsSync(out) && !flags.force)
    throw new ImagespecError('E_USAGE', `"${relative(io.cwd, out) || out}" already exists`, {
      hint: 'Use --force to overwrite it',
    })
  const outDir = dirname(out)
  const src: Source = flags.from
    ? await fromFile(io, flags.from, outDir)
    : {
        lines: [
          '# packages: [numpy, pandas]        # Python packages (uv pip)',
          '# requirements: requirements.txt  # or uv.lock / poetry.lock',
        ],
      }
  const text = [
    `# yaml-language-server: $schema=${schemaRef(outDir)}`,
    "# An ImageSpec (flytekit's fields). Check it with `imagespec validate`, see the image name with `imagespec name`,",
    "# and build it with `imagespec build`. Fields left out take flytekit's defaults.",
    `name: ${imageNameOf(src.name ?? basename(outDir))}`,
    `python_version: ${yamlString(src.python ?? '3.11')}    # quoted: 3.10 unquoted would be the number 3.1`,
    '# registry: ghcr.io/your-org       # where the image is pushed (and looked up); none: local engine only',
    '# base_image: python:3.11-slim     # default: debian:bookworm-slim with micromamba Python',
    '',
    ...src.lines,
    '',
    '# apt_packages: [git]',
    '# env: {LOG_LEVEL: info}',
    '# source_root: .                   # copy your code into /root ...',
    '# source_copy_mode: all            # ... all of it (auto copies only imported modules)',
    '# platform: linux/amd64',
    '',
  ].join('\n')
  writeFileSync(out, text)
  if (flags.json) io.stdout.write(JSON.stringify({ out }) + '\n')
  else io.stderr.write(`Wrote ${relative(io.cwd, out) || out}\n`)
  return 0
}
