import { defineConfig } from 'tsup'
import { base } from '../../tools/tsup.base.js'

// One build for the library and the binary (its shebang comes from src/bin.ts); no dependency is bundled: the
// command line is parsed with node:util's parseArgs, and the workspace packages stay external so that every
// package shares one @imagespec/spec.
export default defineConfig({
  ...base,
  entry: ['src/index.ts', 'src/bin.ts'],
  dts: { ...(base.dts as object), entry: 'src/index.ts' },
})
