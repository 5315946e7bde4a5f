import { defineConfig } from 'tsup'
import { base } from '../../tools/tsup.base.js'

// semver is bundled: the builder loads this package on every `imagespec build`, and semver's ~50 CommonJS files
// cost more to load than the one file they make here.
export default defineConfig({ ...base, noExternal: ['semver'] })
