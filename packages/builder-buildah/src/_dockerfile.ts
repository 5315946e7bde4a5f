// Dockerfile adjustments for buildah 1.28, which resolves `RUN --mount` targets literally: BuildKit takes a relative
// `target=` from the current WORKDIR, buildah refuses it ("must be an absolute path").
import { posix } from 'node:path'

const FROM = /^\s*FROM\s/i
const WORKDIR = /^\s*WORKDIR\s+(\S+)/i
const RUN_MOUNT = /^\s*RUN\s.*--mount=/i

/** Rewrites every relative `--mount=…,target=X` (or `dst=`/`destination=`) to the absolute path under WORKDIR. */
export function absoluteMountTargets(dockerfile: string): string {
  let workdir = '/'
  return dockerfile
    .split('\n')
    .map((line) => {
      if (FROM.test(line)) workdir = '/'
      const w = WORKDIR.exec(line)
      if (w) workdir = posix.resolve(workdir, w[1])
      if (!RUN_MOUNT.test(line)) return line
      return line.replace(/--mount=\S+/g, (mount) =>
        mount.replace(
          /(=|,)(target|dst|destination)=([^,\s]+)/g,
          (all, sep: string, key: string, path: string) =>
            path.startsWith('/') ? all : `${sep}${key}=${posix.resolve(workdir, path)}`,
        ),
      )
    })
    .join('\n')
}

/** The `FROM` images of a Dockerfile (stage names excluded), in order. */
export function fromImages(dockerfile: string): string[] {
  const stages = new Set<string>()
  const images: string[] = []
  for (const line of dockerfile.split('\n')) {
    const m = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line)
    if (!m) continue
    if (!stages.has(m[1].toLowerCase())) images.push(m[1])
    if (m[2]) stages.add(m[2].toLowerCase())
  }
  return images
}
