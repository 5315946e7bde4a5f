// The binary from the sources, for tests run through tsx (`@imagespec/source` condition); dist/bin.cjs is the built one.
import { runProcess } from '../src/run.js'

await runProcess()
