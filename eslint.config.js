// Lint rules, including the folder boundaries of CONVENTIONS.md: shared/ runs anywhere, the agent never imports
// electron, the renderer never reaches Node or SQL.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import { HTTP_LIBRARIES, layersRule } from './eslint/layers.js';

const nodeBuiltins = {
  group: ['node:*'],
  message: 'shared/ and src-renderer/ run anywhere: no Node built-ins.',
};
const electron = { name: 'electron', message: 'Only src-main/desktop/ may import electron.' };
const agentCode = {
  group: ['**/src-main/**', '**/migrations/**'],
  message: 'shared/ imports nothing of the agent.',
};
const httpLibraries = {
  group: HTTP_LIBRARIES,
  message:
    'The engine never imports an HTTP library: connectors own their clients (src-main/connectors/http/).',
};
const connectorInternals = {
  group: ['**/connectors/*/**', '!**/connectors/port/**', '!**/connectors/http/**'],
  message:
    'Only the agent (the composition root) reaches a connector; the rest uses the port (connectors/port/).',
};

/** The agent's restricted imports (outside desktop/): no electron, no UI code, and `extra` patterns. */
const agentImports = (...extra) => [
  'error',
  {
    paths: [electron],
    patterns: [{ group: ['**/src-renderer/**'], message: 'The agent never imports UI code.' }, ...extra],
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'demo-data/**',
      'test-results/**',
      'playwright-report/**',
      'src-renderer/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/consistent-type-definitions': ['error', 'type'],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'it', 'describe', 'suite'], package: 'node:test' },
          ],
        },
      ],
      // Route handlers and hooks are async by contract even when they do not await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electron, { name: 'react', message: 'shared/ has no UI.' }],
          patterns: [nodeBuiltins, agentCode],
        },
      ],
    },
  },
  {
    // No import cycles between files anywhere in the agent, and its folders in layers (eslint/layers.js).
    files: ['src-main/**/*.ts', 'shared/**/*.ts'],
    plugins: { 'import-x': importX, backroom: { rules: { layers: layersRule } } },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: { 'import-x/no-cycle': 'error', 'backroom/layers': ['error', { root: import.meta.dirname }] },
  },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/desktop/**'],
    rules: { 'no-restricted-imports': agentImports() },
  },
  {
    // The engine: no HTTP library, no connector internals.
    files: ['src-main/{platform,db,exceptions,outbox,mappings,ledger,capture,health,reconcile}/**/*.ts'],
    rules: { 'no-restricted-imports': agentImports(httpLibraries, connectorInternals) },
  },
  {
    files: ['src-main/server/**/*.ts'],
    rules: { 'no-restricted-imports': agentImports(connectorInternals) },
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            electron,
            { name: 'better-sqlite3', message: 'The UI never sees SQL.' },
            { name: 'kysely', message: 'The UI never sees SQL.' },
          ],
          patterns: [
            nodeBuiltins,
            { group: ['**/src-main/**'], message: 'The UI reaches the agent through the typed client only.' },
          ],
        },
      ],
    },
  },
  {
    // The `backroom` launcher and the test runner script are plain JS.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-console': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
