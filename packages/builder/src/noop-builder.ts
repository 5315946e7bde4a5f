import { defineBuilder, ImagespecError } from '@imagespec/spec'

/**
 * flytekit's NoOpBuilder: always "builds", and the build only names the spec's `base_image` (a string) as the real
 * image, so the engine maps the spec's image name to it.
 */
export const noopBuilder = defineBuilder(() => ({
  name: 'noop',
  contractVersion: 1,
  priority: 0,
  capabilities: { cacheMounts: false, secrets: false, multiPlatform: true, push: false },
  shouldBuild: async () => true,
  async build({ loaded }, ctx) {
    const base = loaded.spec.base_image
    if (typeof base !== 'string') {
      throw new ImagespecError(
        'E_SPEC_INVALID',
        'base_image must be a string to use the noop image builder',
        {
          field: 'base_image',
        },
      )
    }
    ctx.onEvent({ type: 'notice', level: 'info', text: `Using image: ${base}` })
    return { imageName: base }
  },
  describe: async ({ loaded }) => ({ command: `use ${String(loaded.spec.base_image)} as is` }),
}))
