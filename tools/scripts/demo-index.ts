// Serves the example's packages on http://127.0.0.1:8765/simple/ until stopped: imagespec-hello-dep and a stub
// flytekit wheel at the pinned version (PyPI is not reachable here). Run by demo.sh through tsx.
import { FLYTEKIT_VERSION, flytekitStub, startPackageIndex } from '../test-utils/src/index.js'

const index = await startPackageIndex(
  [
    {
      name: 'imagespec-hello-dep',
      version: '0.1.0',
      files: { 'hello_dep/__init__.py': 'GREETING = "Hello from imagespec"\n' },
    },
    flytekitStub(process.env.IMAGESPEC_FLYTEKIT_VERSION ?? FLYTEKIT_VERSION),
  ],
  { port: Number(process.env.DEMO_INDEX_PORT ?? 8765) },
)
process.stdout.write(`index ready at ${index.url}\n`)
const stop = () => void index.stop().then(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
