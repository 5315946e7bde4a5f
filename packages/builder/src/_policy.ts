import { ImagespecError, type BuilderMessage } from '@imagespec/spec'
import type { ExistsAnswer } from './exists.js'

export interface Decision {
  build: boolean
  /** flytekit's should_build lines. */
  messages: BuilderMessage[]
  /** Set under fast fail: thrown after the messages are emitted. */
  error?: ImagespecError
}

const info = (text: string): BuilderMessage => ({ type: 'notice', level: 'info', text })
const error = (text: string): BuilderMessage => ({ type: 'notice', level: 'error', text })

/** flytekit's RuntimeError text for an unknown answer under FLYTE_IMG_FAST_FAIL (verbatim). */
const FAST_FAIL_MESSAGE =
  'Build failed as ImageSpec failed to check if the image exists due to a permission issue or other reason. \n' +
  'Note, this fast failure is configured with the env var `FLYTE_IMG_FAST_FAIL`.'

/** What flytekit's `exist()` prints for an answer: the red "Failed to check…" line when it is unknown. */
export function existMessages(answer: ExistsAnswer): BuilderMessage[] {
  return answer.status === 'unknown'
    ? [
        error(
          `Failed to check if the image exists with error:\n ${answer.reason ?? 'unknown reason'}`,
        ),
      ]
    : []
}

/**
 * flytekit's `ImageSpecBuilder.should_build` over an existence answer: build when missing; when present, only
 * with force push; when unknown, assume it exists, unless fast fail (then `error` is set: emit the messages,
 * then throw it).
 */
export function decide(
  img: string,
  answer: ExistsAnswer,
  rules: { force: boolean; fastFail: boolean },
): Decision {
  if (answer.status === 'missing')
    return { build: true, messages: [info(`Image ${img} not found. building...`)] }
  if (answer.status === 'exists') {
    return rules.force
      ? { build: true, messages: [info(`Overwriting existing image ${img}.`)] }
      : { build: false, messages: [info(`Image ${img} found. Skip building.`)] }
  }
  if (rules.fastFail) {
    return {
      build: false,
      messages: [error('FLYTE_IMG_FAST_FAIL set to True.')],
      error: new ImagespecError('E_IMAGE_EXISTS_UNKNOWN', FAST_FAIL_MESSAGE, {
        details: [`${img}: ${answer.reason ?? 'unknown reason'}`],
        hint: 'Unset FLYTE_IMG_FAST_FAIL to assume the image exists when it cannot be checked',
      }),
    }
  }
  return { build: false, messages: [info(`Flytekit assumes the image ${img} already exists.`)] }
}
