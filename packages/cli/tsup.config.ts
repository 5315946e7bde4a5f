import { readFileSync } from 'node:fs'
import { defineConfig } from 'tsup'
import { base, embedded } from '../../tools/tsup.base.js'

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string }
const define = { ...embedded, __IMAGESPEC_CLI_VERSION__: JSON.stringify(version) }

// Kept out of the bundle and required at run time (they are dependencies of this package): the Docker client, with its
// optional native SSH crypto, and the gRPC stack of the BuildKit session. Only a build that runs the engine loads them.
const external = ['dockerode', '@grpc/grpc-js', 'protobufjs']

export default defineConfig([
  // The library (`main` for embedding and tests): ESM, the workspace packages shared, not bundled.
  { ...base, define },
  // The binary: dist/bin.cjs, a small launcher (its own `import()` loads builder modules), and dist/imagespec.cjs,
  // everything else in one CommonJS file. One file compiles through one V8 code cache and skips the ES module loader
  // (resolution and linking of ~30 modules: ~15 ms a start).
  { ...base, entry: { bin: 'src/bin.ts' }, format: ['cjs'], dts: false, clean: false, sourcemap: false },
  {
    ...base,
    entry: { imagespec: 'src/bundle.ts' },
    format: ['cjs'],
    dts: false,
    clean: false,
    define,
    noExternal: [/^(?!dockerode$|@grpc\/grpc-js$|protobufjs$)/],
    external,
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
