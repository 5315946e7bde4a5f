// ESLint for the workspace: typescript-eslint (typed), module boundaries by Nx tag (eslint-plugin-boundaries), the
// vitest rules, "libraries never print or exit", and eslint-config-prettier last (formatting is Prettier's).
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import js from '@eslint/js'
import vitest from '@vitest/eslint-plugin'
import prettier from 'eslint-config-prettier'
import boundaries from 'eslint-plugin-boundaries'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const root = path.dirname(fileURLToPath(import.meta.url))

// Workspace packages and their Nx tags (`type:*`), read from each package.json: a new package is covered as soon as
// it declares its tag.
const workspace = ['packages', 'tools'].flatMap((base) =>
  readdirSync(path.join(root, base), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(root, base, d.name, 'package.json')))
    .map((d) => {
      const pkg = JSON.parse(readFileSync(path.join(root, base, d.name, 'package.json'), 'utf8'))
      const tag = (pkg.nx?.tags ?? []).find((t) => t.startsWith('type:'))?.slice('type:'.length)
      return { dir: `${base}/${d.name}`, name: pkg.name, type: tag ?? 'untagged' }
    }),
)

// house-style section 1 and 10: who may import whom (runtime code; tests may also import test utilities).
const allowed = {
  contract: [],
  lib: ['contract'],
  engine: ['lib', 'contract'],
  app: ['engine', 'contract'],
  plugin: ['engine', 'contract'],
  test: ['contract'],
  untagged: [],
}
const TEST_FILES = ['**/*.test.ts', '**/test/**/*.ts', '**/vitest.config.ts']
const typesNotAllowed = (type) =>
  Object.keys(allowed).filter((t) => t !== type && !allowed[type].includes(t))
const packagesOf = (types) => workspace.filter((p) => types.includes(p.type)).map((p) => p.name)

/** One policy per element type: the workspace packages (by name, or by path when resolved) it may not import. */
function boundaryPolicies({ tests }) {
  return Object.keys(allowed).flatMap((type) => {
    const banned = typesNotAllowed(type).filter((t) => !(tests && t === 'test'))
    const names = packagesOf(banned)
    if (banned.length === 0) return []
    return [
      {
        from: { element: { type } },
        disallow: {
          to: [
            { element: { types: { anyOf: banned } } },
            ...(names.length ? [{ module: { source: names } }] : []),
          ],
        },
        message: `a ${type} package may import only ${allowed[type].join(', ') || 'no workspace packages'} (house-style section 1)`,
      },
    ]
  })
}

const boundaryElements = workspace.map((p) => ({ type: p.type, pattern: p.dir }))

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '.nx/**',
      '**/__snapshots__/**',
      // tsup's transient bundle of its config: made and removed by a build running beside the lint
      '**/tsup.config.bundled_*',
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            '*.js',
            '*.ts',
            'bench/*.mjs',
            'tools/*.ts',
            'tools/scripts/*.mjs',
            'tools/scripts/*.ts',
          ],
        },
        tsconfigRootDir: root,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // Typed rules that would fight the code this workspace writes on purpose (parsed JSON checked field by field,
      // async functions kept async for their callers, type assertions kept as documentation): off. The typed rules
      // that find real bugs (floating and misused promises, awaiting non-promises, …) stay on.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // Control characters are data here (terminal colours, line breaks, NULs in spec values).
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },
  // Plain JavaScript (scripts, benches, configs): no type information.
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },

  // Module boundaries (eslint-plugin-boundaries, elements = packages typed by their Nx tag).
  {
    files: ['packages/*/**/*.ts', 'tools/*/**/*.ts'],
    plugins: { boundaries },
    settings: { 'boundaries/elements': boundaryElements },
    rules: {
      'boundaries/dependencies': [
        'error',
        { default: 'allow', checkAllOrigins: true, policies: boundaryPolicies({ tests: false }) },
      ],
    },
  },
  {
    files: TEST_FILES,
    plugins: { boundaries },
    settings: { 'boundaries/elements': boundaryElements },
    rules: {
      'boundaries/dependencies': [
        'error',
        { default: 'allow', checkAllOrigins: true, policies: boundaryPolicies({ tests: true }) },
      ],
    },
  },

  // Libraries never print or exit: only the CLI does.
  {
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/cli/**', ...TEST_FILES],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'exit',
          message: 'Libraries never exit; throw an ImagespecError.',
        },
      ],
    },
  },

  // Tests: vitest's rules (house-style section 7).
  {
    files: TEST_FILES,
    plugins: { vitest },
    rules: {
      'vitest/consistent-test-it': ['error', { fn: 'it', withinDescribe: 'it' }],
      'vitest/no-focused-tests': 'error',
      'vitest/no-identical-title': 'error',
    },
  },

  prettier,
)
