import { inject } from 'vitest'
import type {} from './vitest.tmpdir.js' // the type of `runTmpdir`

// Each test file sees the run's own temporary directory as TMPDIR (tools/vitest.tmpdir.ts checks it is left empty).
process.env.TMPDIR = inject('runTmpdir')
