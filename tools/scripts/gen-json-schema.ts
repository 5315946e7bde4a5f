// Writes packages/spec/schema.json from the zod schema (`pnpm gen:schema`). A unit test fails when it is stale.
import { writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { imageSpecJsonSchema } from '../../packages/spec/src/index.js'

const out = resolve(dirname(fileURLToPath(import.meta.url)), '../../packages/spec/schema.json')
writeFileSync(out, `${JSON.stringify(imageSpecJsonSchema(), null, 2)}\n`)
process.stdout.write(`wrote ${out}\n`)
