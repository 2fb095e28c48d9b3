/**
 * Property test for the config loader (src/config/load.ts): random YAML-ish documents — built from real keys and
 * random keys, values of every YAML type, then optionally mangled as text — either load, or throw a ConfigError
 * whose every problem names the file and a dotted path (string) and says why. Nothing else is ever thrown.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { stringify } from 'yaml'
import { loadConfig } from '../../src/config/load.js'
import { ConfigError } from '../../src/model/errors.js'
import { fuzzParams } from './runs.js'

const FILE = '/fuzz/lb.yaml'
const keys = fc.constantFrom(
  'workers',
  'listeners',
  'services',
  'routes',
  'defaults',
  'http',
  'timeouts',
  'admin',
  'log',
  'consul',
  'resolver',
  'shutdown',
  'name',
  'address',
  'mode',
  'servers',
  'path',
  'host',
  'service',
  'balance',
  'retries',
  'check',
  'token',
  'token_file',
  'trusted_proxies',
  'allow',
  'deny',
  'weight',
  'redirect',
  'strip',
  'level',
  'enabled',
  'addresses',
  'pid_file',
  'route_commands',
  'sni_routes',
  '<<',
)
const scalar = fc.oneof(
  fc.constantFrom(
    '127.0.0.1:0',
    ':9999',
    '10s',
    '0',
    '-1',
    'auto',
    'http',
    'tcp',
    'roundrobin',
    '/',
    '*.x',
    '${HOME}',
    '${UNSET}',
    '',
  ),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
)
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(keys, fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 5 }),
  ),
}))
const document = fc.oneof(
  fc.dictionary(keys, value, { maxKeys: 6 }).map((d) => stringify(d)),
  value.map((v) => stringify(v)),
  // Text-level damage: cut, insert, or append random bytes to a document.
  fc
    .tuple(fc.dictionary(keys, value, { maxKeys: 4 }), fc.nat(), fc.string({ unit: 'binary', maxLength: 12 }))
    .map(([d, at, junk]) => {
      const t = stringify(d)
      const i = t.length === 0 ? 0 : at % t.length
      return t.slice(0, i) + junk + t.slice(i)
    }),
  fc.string({ unit: 'binary', maxLength: 200 }),
)

test('loadConfig: random documents load or throw ConfigError with file + dotted path, nothing else', async () => {
  await fc.assert(
    fc.asyncProperty(document, fc.boolean(), async (text, refuseEmpty) => {
      try {
        await loadConfig({
          path: FILE,
          env: { HOME: '/home/x' },
          readFile: async (p) => {
            if (p === FILE) return text
            throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' })
          },
          refuseEmpty,
        })
      } catch (err) {
        assert.ok(err instanceof ConfigError, `threw ${String(err)} for:\n${text}`)
        assert.ok(err.problems.length > 0)
        for (const p of err.problems) {
          assert.equal(p.file, FILE)
          assert.equal(typeof p.path, 'string')
          assert.ok(p.message.length > 0, 'every problem says why')
        }
      }
    }),
    fuzzParams(),
  )
})
