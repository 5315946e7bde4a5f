// Entry of dist/imagespec.cjs: the whole command line (every @imagespec package and their pure-JS dependencies) in one
// CommonJS file, which dist/bin.cjs loads through V8's code cache. See tsup.config.ts.
export { runProcess } from './run.js'
