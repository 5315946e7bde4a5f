import { defineConfig } from 'tsup'
import { base } from '../../tools/tsup.base.js'

// commander and picocolors are bundled (one file to load instead of a dozen); the workspace packages stay external,
// so that every package shares one @imagespec/spec. Bundled CommonJS needs a `require` for Node's builtins.
const requireShim = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
const bundled = { noExternal: ['commander', 'picocolors'] }

export default defineConfig([
  { ...base, ...bundled, banner: { js: requireShim } },
  { ...base, ...bundled, entry: ['src/bin.ts'], dts: false, clean: false, banner: { js: `#!/usr/bin/env node\n${requireShim}` } },
])
