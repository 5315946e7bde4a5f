import { defineConfig } from 'vitest/config'

/**
 * Two projects per package: `unit` (src/**\/*.test.ts, pure, cached by Nx) and
 * `int` (test/**\/*.int.test.ts, a real engine and registry, never cached).
 * The `@imagespec/source` condition lets tests run on sources without a build.
 */
export function packageVitestConfig() {
  const conditions = ['@imagespec/source', 'node', 'import', 'default']
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@imagespec/source'] } },
    test: {
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
