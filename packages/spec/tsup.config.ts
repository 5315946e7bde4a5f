import { defineConfig } from 'tsup'
import { base } from '../../tools/tsup.base.js'

// zod (mini, tree-shaken), yaml and smol-toml (imported lazily, for uv.lock files: its own chunk) are bundled: every CLI start loads this package, and one file loads in a few
// milliseconds where their ~150 modules take tens. yaml is bundled from its ES module build (the same code as its
// CommonJS one, which takes three times as long to load), which reports warnings with console.warn.
export default defineConfig({
  ...base,
  noExternal: ['zod', 'yaml', 'smol-toml'],
  esbuildOptions(options) {
    options.alias = { yaml: './node_modules/yaml/browser/index.js' }
  },
})
