import { defineConfig } from 'tsup'
import { base } from '../../tools/tsup.base.js'

export default defineConfig(base)
