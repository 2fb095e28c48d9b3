import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const pureFolders = [
  'src/route/**/*.ts',
  'src/balance/**/*.ts',
  'src/health/state.ts',
  'src/config/schema.ts',
  'src/config/address.ts',
  'src/config/duration.ts',
  'src/provider/file.ts',
  'src/provider/merge.ts',
  'src/provider/routecmd.ts',
  'src/provider/consul/tags.ts',
  'src/provider/consul/build.ts',
]

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'use string unions' }],
    },
  },
  {
    // STYLE §1 and §10: pure modules do no I/O, no logging, no metrics.
    files: pureFolders,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'node:net',
            'node:http',
            'node:https',
            'node:tls',
            'node:fs',
            'node:dns',
            'pino',
            'prom-client',
            'undici',
          ],
          patterns: ['**/metrics.js', '**/log.js', '**/proxy/**'],
        },
      ],
    },
  },
)
