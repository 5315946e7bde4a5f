import { defineConfig } from 'tsup'
import { base } from '../../tools/tsup.base.js'

export default defineConfig([
  { ...base },
  { ...base, entry: ['src/bin.ts'], dts: false, clean: false, banner: { js: '#!/usr/bin/env node' } },
])
