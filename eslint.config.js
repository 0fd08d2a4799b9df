// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The walls between the parts of the toolkit, enforced here rather than by habit. Each wall is a list of
// `no-restricted-imports` patterns; a file gets every wall that applies to it (flat config replaces a rule set by
// an earlier block, so each block below lists all of its walls).

/** No file reaches into a package's sources by path: packages are used by name (`@herald/core`). */
const byNameOnly = [
  {
    regex: '^(\\.\\./)+(packages/)?[a-z][a-z0-9-]*/src(/|$)',
    message: "Import another package by its name ('@herald/...'), not by a path into its src/.",
  },
  {
    regex: '^@herald/[a-z0-9-]+/(src|dist)(/|$)',
    message: "Import a package by its name or a subpath it exports ('@herald/core/testing'), not its files.",
  },
];

/**
 * The core's own files (packages/herald/src/*.ts) do not depend on its feature folders: features build on the
 * core, not the other way round. The composition files (index.ts, create-router.ts, default-pipeline.ts) are
 * where features are put together; `publisher.ts` may use the producer span (`tracing/producer.ts`), which is
 * part of what publishing is.
 */
const coreFeatureFolders = (allowed = '') => [
  {
    regex: `^\\./(middleware|metrics|asyncapi|url|log|memory|testing)/`,
    message:
      'Core files do not import feature folders: compose features in create-router.ts, default-pipeline.ts or index.ts.',
  },
  {
    regex: `^\\./tracing/${allowed}`,
    message:
      'Core files do not import feature folders: compose features in create-router.ts, default-pipeline.ts or index.ts.',
  },
];

const TRANSPORTS = ['sqlite', 'kafka', 'rabbitmq', 'nats', 'sqs'];

/** A transport does not import another one: what they share belongs in @herald/core. */
const notOtherTransports = (self) => [
  {
    group: TRANSPORTS.filter((name) => name !== self).flatMap((name) => [
      `@herald/${name}`,
      `@herald/${name}/*`,
    ]),
    message: 'Transports do not import each other: move what they share into @herald/core.',
  },
];

/** The shop is a user of the toolkit: it imports packages by name only, never their files. */
const shopUsesPackages = [
  {
    regex: '^(\\.\\./)+packages/',
    message: "The shop imports Herald packages by name ('@herald/core'), like any user.",
  },
];

const walls = (...lists) => ['error', { patterns: lists.flat() }];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'bench/.scratch/**',
      '.data/**',
      '.cache/**',
      'eslint.config.js',
      'scripts/*.mjs',
      'packages/*/bin/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': walls(byNameOnly),
    },
  },
  {
    files: ['packages/herald/src/*.ts'],
    ignores: [
      'packages/herald/src/index.ts',
      'packages/herald/src/create-router.ts',
      'packages/herald/src/default-pipeline.ts',
    ],
    rules: { 'no-restricted-imports': walls(byNameOnly, coreFeatureFolders()) },
  },
  {
    files: ['packages/herald/src/publisher.ts'],
    rules: { 'no-restricted-imports': walls(byNameOnly, coreFeatureFolders('(?!producer\\.ts$)')) },
  },
  ...TRANSPORTS.map((name) => ({
    files: [`packages/${name}/src/**/*.ts`],
    rules: { 'no-restricted-imports': walls(byNameOnly, notOtherTransports(name)) },
  })),
  {
    files: ['shop/**/*.ts'],
    rules: { 'no-restricted-imports': walls(byNameOnly, shopUsesPackages) },
  },
  {
    // The console's pages: plain ES modules for the browser, not part of the TypeScript program.
    files: ['packages/console/public/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'fetch',
          'sessionStorage',
          'EventSource',
          'URLSearchParams',
          'addEventListener',
          'removeEventListener',
          'confirm',
          'setInterval',
          'clearInterval',
          'console',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
