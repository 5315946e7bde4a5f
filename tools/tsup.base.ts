import type { Options } from 'tsup'

/** Shared tsup options: every package's tsup.config.ts spreads these. */
export const base: Options = {
  entry: ['src/index.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  dts: { compilerOptions: { customConditions: [] } },
  sourcemap: true,
  clean: true,
}
