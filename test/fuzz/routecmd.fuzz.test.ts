/**
 * Property tests for the route-command parser (src/fabio/routecmd.ts): any text parses without throwing;
 * every problem points at a real line of the text; applying the parsed commands and building a Snapshot never
 * throws either, and every command line is accounted for (a command, a problem, or blank/comment).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { applyCommands, parseCommands, type Ir } from '../../src/fabio/routecmd.js'
import { toSnapshot } from '../../src/fabio/snapshot.js'
import { defaultConfig } from '../../src/config/defaults.js'
import { fuzzParams } from './runs.js'

const token = fc.oneof(
  fc.constantFrom(
    'route',
    'add',
    'del',
    'weight',
    'svc',
    'svc-a',
    'example.com/',
    '/api',
    ':8443',
    'http://10.0.0.1:8080/',
    'https://[::1]:443/',
    'tcp://10.0.0.2:5432',
    'weight',
    '0.5',
    '1.5',
    '-1',
    'tags',
    '"a,b"',
    '"unterminated',
    'opts',
    '"strip=/api proto=https"',
    '"redirect=301,http://x/$path"',
    'ok',
    '${DC}',
    '#',
  ),
  fc.string({ maxLength: 10 }),
)
const line = fc.oneof(
  fc.array(token, { maxLength: 10 }).map((t) => t.join(' ')),
  fc.string({ unit: 'binary', maxLength: 60 }),
)
const text = fc.array(line, { maxLength: 12 }).map((l) => l.join('\n'))

test('parseCommands → applyCommands → toSnapshot never throws; problems point at real lines', () => {
  fc.assert(
    fc.property(text, (t) => {
      const r = parseCommands(t, 'dc1')
      const lines = t.split('\n').length
      for (const p of [...r.problems, ...r.warnings]) {
        assert.ok(Number.isInteger(p.line) && p.line >= 1 && p.line <= lines, `line ${p.line} of ${lines}`)
        assert.ok(p.reason.length > 0)
      }
      const used = new Set<number>()
      for (const c of r.commands) {
        assert.ok(c.line >= 1 && c.line <= lines)
        used.add(c.line)
      }
      for (const p of r.problems) assert.ok(!used.has(p.line), `line ${p.line} both a command and a problem`)
      const ir: Ir = new Map()
      const applied = applyCommands(ir, r.commands, t)
      for (const p of applied) assert.ok(p.line >= 1 && p.line <= lines)
      const snap = toSnapshot(ir, { defaults: defaultConfig.defaults, source: 'fuzz' })
      for (const route of snap.routes)
        assert.ok(
          snap.services.some((s) => s.name === route.service),
          `route ${route.path} has service ${route.service}`,
        )
    }),
    fuzzParams(),
  )
})
