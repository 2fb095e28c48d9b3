import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * The folders of src/ and the folders each one may import, besides its own files. Every arrow points down the
 * list, so the folders form no circle; an import of any other folder fails `npm run lint`. docs/architecture.md
 * explains the layers. src/main.ts, the executable, imports cli/ only.
 */
const layers = {
  cli: [
    'process',
    'admin',
    'proxy',
    'provider',
    'health',
    'log',
    'metrics',
    'config',
    'fabio',
    'route',
    'balance',
    'model',
    'net',
  ],
  process: [
    'admin',
    'proxy',
    'provider',
    'health',
    'log',
    'metrics',
    'config',
    'fabio',
    'route',
    'balance',
    'model',
    'net',
  ],
  admin: ['proxy', 'health', 'config', 'route', 'balance', 'model', 'net'],
  proxy: ['health', 'log', 'metrics', 'config', 'fabio', 'route', 'balance', 'model', 'net'],
  provider: ['log', 'config', 'fabio', 'route', 'model', 'net'],
  health: ['log', 'balance', 'model', 'net'],
  log: ['config', 'fabio', 'model'],
  config: ['fabio', 'route', 'model', 'net'],
  fabio: ['route', 'model', 'net'],
  route: ['model', 'net'],
  balance: ['model'],
  metrics: ['model'],
  net: ['model'],
  model: [],
}

/** Modules that decide from data alone: no I/O, no logging, no metrics. */
const pure = [
  'src/model/**/*.ts',
  'src/route/**/*.ts',
  'src/balance/**/*.ts',
  'src/fabio/**/*.ts',
  'src/config/**/*.ts',
  'src/health/state.ts',
  'src/health/view.ts',
  'src/net/h1/**/*.ts',
  'src/provider/file.ts',
  'src/provider/merge.ts',
  'src/provider/consul/build.ts',
]
const ioModules = [
  'node:net',
  'node:http',
  'node:https',
  'node:tls',
  'node:fs',
  'node:dns',
  'pino',
  'prom-client',
  'undici',
]

/** The no-restricted-imports options for the files of `folder` (one rule per file: ESLint does not merge them). */
function zone(folder, isPure) {
  const allowed = layers[folder]
  const banned = Object.keys(layers).filter((f) => f !== folder && !allowed.includes(f))
  const patterns = []
  if (banned.length > 0)
    patterns.push({
      regex: `(^|/)(${banned.join('|')})/`,
      message: `src/${folder}/ may import only ${allowed.length === 0 ? 'its own files' : allowed.map((f) => f + '/').join(', ')} (dependencies point one way: eslint.config.js \`layers\`)`,
    })
  if (folder === 'model')
    patterns.push({
      regex: '^(\\.\\./|[^.])',
      message: 'src/model/ imports nothing: every other folder imports it',
    })
  return ['error', { paths: isPure ? ioModules : [], patterns }]
}

const zones = []
for (const folder of Object.keys(layers)) {
  const files = [`src/${folder}/**/*.ts`]
  const pureHere = pure.filter((p) => p.startsWith(`src/${folder}/`))
  const whole = pureHere.includes(files[0])
  zones.push({
    files,
    ...(whole ? {} : { ignores: pureHere }),
    rules: { 'no-restricted-imports': zone(folder, whole) },
  })
  if (!whole && pureHere.length > 0)
    zones.push({ files: pureHere, rules: { 'no-restricted-imports': zone(folder, true) } })
}
zones.push({
  files: ['src/main.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: [{ regex: '^\\./(?!cli/)', message: 'src/main.ts imports cli/ only' }] },
    ],
  },
})

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**', 'tools/**'] },
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
  ...zones,
)
