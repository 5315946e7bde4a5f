import { fileURLToPath } from 'node:url'
import { defineConfig, type Options } from 'tsup'
import { base, embedded } from '../../tools/tsup.base.js'

type Plugin = NonNullable<Options['esbuildPlugins']>[number]

// The version is not compiled in: src/_version.ts reads package.json at run time (what was packed).
const define = { ...embedded }

// Kept out of the bundle and required at run time: the Docker client, with its optional native SSH crypto, the gRPC
// stack of the BuildKit session, and the tar reader that serves a context over BuildKit's filesync. They are
// dependencies of @imagespec/docker (whose code the bundle inlines), not of this package: each import becomes a call of src/_docker-deps.ts, which requires the package from where
// @imagespec/docker is installed. Only a build that runs the engine loads them.
const DOCKER_DEPS = /^(?:dockerode|@grpc\/grpc-js|protobufjs|tar-stream)$/
const dockerDeps: Plugin = {
  name: 'imagespec-docker-deps',
  setup(build) {
    build.onResolve({ filter: DOCKER_DEPS }, (args) => ({
      path: args.path,
      namespace: 'docker-dep',
    }))
    build.onLoad({ filter: /.*/, namespace: 'docker-dep' }, (args) => ({
      contents: `module.exports = require('./_docker-deps.ts').requireDockerDependency(${JSON.stringify(args.path)})`,
      resolveDir: fileURLToPath(new URL('./src', import.meta.url)),
      loader: 'js',
    }))
  },
}

export default defineConfig([
  // The library (`main` for embedding and tests): ESM, the workspace packages shared, not bundled.
  { ...base, define },
  // The binary: dist/bin.cjs, a small launcher (its own `import()` loads builder modules), and dist/imagespec.cjs,
  // everything else in one CommonJS file. One file compiles through one V8 code cache and skips the ES module loader
  // (resolution and linking of ~30 modules: ~15 ms a start).
  {
    ...base,
    entry: { bin: 'src/bin.ts' },
    format: ['cjs'],
    dts: false,
    clean: false,
    sourcemap: false,
  },
  {
    ...base,
    entry: { imagespec: 'src/bundle.ts' },
    format: ['cjs'],
    dts: false,
    clean: false,
    define,
    noExternal: [/./],
    esbuildPlugins: [dockerDeps],
    // Minified: half the bytes to read at every start (the source map keeps the names).
    minify: process.env.IMAGESPEC_MINIFY !== '0',
    // `import('node:…')` and the packages' lazy `import('./x.js')` become lazy requires inside the one file.
    esbuildOptions(o) {
      o.supported = { ...o.supported, 'dynamic-import': false }
      o.conditions = ['@imagespec/source']
      o.logOverride = { ...o.logOverride, 'empty-import-meta': 'silent' }
    },
  },
])
