import {
  ImagespecError,
  type DockerfileStep,
  type RunMount,
  type SecretMount,
} from '@imagespec/spec'

/** flytekit's joined line continuation: the space before `\` plus four spaces of indentation. */
export const CONT = '     '

export function renderMount(m: RunMount): string {
  switch (m.type) {
    case 'cache':
      return `--mount=type=cache,sharing=locked,mode=0777,target=${m.target},id=${m.id}`
    case 'bind':
      return `--mount=type=bind,target=${m.target},src=${m.src}${m.rw ? ',rw' : ''}`
    case 'from':
      return `--mount=from=${m.from},source=${m.source},target=${m.target}`
  }
}

const renderSecret = (s: SecretMount) => `--mount=type=secret,id=${s.id},target=${s.target}`

export function renderStep(step: DockerfileStep, cacheMounts: boolean): string {
  switch (step.kind) {
    case 'blank':
      return ''
    case 'comment':
      return `# ${step.text}`
    case 'instruction':
      return `${step.keyword} ${step.args.join(CONT)}`
    case 'run': {
      const parts = step.mounts.filter((m) => cacheMounts || m.type !== 'cache').map(renderMount)
      if (step.secrets) parts.push(step.secrets.map(renderSecret).join(' '))
      return `RUN ${[...parts, step.command.join(CONT)].join(CONT)}`
    }
  }
}

/** A template slot: the steps one per line, ending with a newline as flytekit's sub-templates do; `''` when empty. */
export function renderSlot(steps: readonly DockerfileStep[], cacheMounts: boolean): string {
  const lines = steps.map((s) => renderStep(s, cacheMounts))
  if (lines.some((l) => l.includes('\n')))
    throw new ImagespecError(
      'E_TEMPLATE',
      'A Dockerfile step holds a line break that would start a new instruction',
    )
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}
