import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/**
 * Two projects per package: `unit` (src/**\/*.test.ts, pure, cached by Nx) and
 * `int` (test/**\/*.int.test.ts, a real engine and registry, never cached).
 * The `@imagespec/source` condition lets tests run on sources without a build. Each run works in a temporary
 * directory of its own and fails when a test leaves something in it (tools/vitest.tmpdir.ts).
 */
export function packageVitestConfig() {
  const conditions = ['@imagespec/source', 'node', 'import', 'default']
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@imagespec/source'] } },
    test: {
      globalSetup: [fileURLToPath(new URL('./vitest.tmpdir.ts', import.meta.url))],
      setupFiles: [fileURLToPath(new URL('./vitest.tmpdir-env.ts', import.meta.url))],
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            include: ['src/**/*.test.ts', 'test/**/*.unit.test.ts'],
            testTimeout: 30_000,
          },
        },
        {
          extends: true,
          test: {
            name: 'int',
            include: ['test/**/*.int.test.ts'],
            testTimeout: 300_000,
            hookTimeout: 300_000,
            fileParallelism: false,
            maxWorkers: 1,
          },
        },
      ],
    },
  })
}
