import { ImagespecError } from '@imagespec/spec'

export interface Platform {
  os: string
  architecture: string
  variant?: string
}

const PART = /^[a-z0-9._-]+$/i

/** Parses `os/arch[/variant]` (e.g. `linux/arm64/v8`). Throws `E_CONFIG_INVALID` for anything else. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/')
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => PART.test(p)))
    throw new ImagespecError(
      'E_CONFIG_INVALID',
      `Invalid platform "${text}": expected "os/arch[/variant]", e.g. "linux/amd64"`,
      {
        field: 'platforms',
      },
    )
  const [os, architecture, variant] = parts as [string, string, string?]
  return { os, architecture, ...(variant !== undefined && { variant }) }
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`
}

/** containerd's normalisation: `aarch64` -> `arm64` (variant v8 implied), `x86_64` -> `amd64`, bare `arm` -> `arm/v7`. */
function normalize(p: Platform): Required<Platform> {
  const os = p.os.toLowerCase()
  let arch = p.architecture.toLowerCase()
  let variant = (p.variant ?? '').toLowerCase()
  if (arch === 'x86_64' || arch === 'x86-64') arch = 'amd64'
  if (arch === 'aarch64') arch = 'arm64'
  if (arch === 'armhf') [arch, variant] = ['arm', 'v7']
  if (arch === 'armel') [arch, variant] = ['arm', 'v6']
  if (arch === 'amd64' && variant === 'v1') variant = ''
  if (arch === 'arm64' && (variant === '8' || variant === 'v8')) variant = ''
  if (arch === 'arm') variant = variant === '' ? 'v7' : variant.replace(/^(\d)$/, 'v$1')
  return { os, architecture: arch, variant }
}

/** Whether `have` satisfies `want`; a wanted platform without a variant accepts any variant of its
 * architecture (except `arm`, which means `arm/v7`, as in containerd). */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalize(want)
  const h = normalize(have)
  return (
    w.os === h.os &&
    w.architecture === h.architecture &&
    (w.variant === '' || w.variant === h.variant)
  )
}
