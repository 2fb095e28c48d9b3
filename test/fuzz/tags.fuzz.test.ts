/**
 * Property tests for the Consul tag parser (src/fabio/tags.ts): any string is either a plain tag
 * (null), a rejected route tag with a reason, or a route; it never throws. Well-formed `urlprefix-host/path`
 * tags round-trip their host and path, whatever options follow.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseTag } from '../../src/fabio/tags.js'
import { fuzzParams } from './runs.js'

const word = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/)
const host = fc.array(word, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'))
const path = fc.array(word, { minLength: 0, maxLength: 4 }).map((s) => '/' + s.join('/'))
const option = fc.constantFrom(
  'strip=/a',
  'prepend=/b',
  'host=dst',
  'proto=https',
  'tlsskipverify=true',
  'weight=0.5',
  'weight=2',
  'weight=abc',
  'redirect=301,https://x/$path',
  'allow=ip:10.0.0.0/8',
  'deny=ip:::1',
  'unknown=1',
  'proto=tcp',
  '=',
  'strip=',
)

test('parseTag: never throws on any string; results are well-formed', () => {
  const tagText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ maxLength: 60 }).map((s) => 'urlprefix-' + s),
    fc
      .tuple(
        fc.string({ maxLength: 30 }),
        fc.array(fc.oneof(option, fc.string({ maxLength: 12 })), { maxLength: 4 }),
      )
      .map(([src, opts]) => `urlprefix-${src} ${opts.join(' ')}`),
  )
  fc.assert(
    fc.property(tagText, fc.constantFrom('', 'dc1'), (tag, dc) => {
      const r = parseTag(tag, 'urlprefix-', dc)
      if (r === null) {
        assert.ok(!tag.trim().startsWith('urlprefix-'))
        return
      }
      if (!r.ok) {
        assert.equal(typeof r.reason, 'string')
        assert.ok(r.reason.length > 0, 'a rejection says why')
        return
      }
      const w = r.route.weight
      assert.ok(Number.isFinite(w) && w >= 0 && w <= 1, `weight ${w} in [0, 1]`)
      if (r.route.src.kind === 'tcp') {
        const p = r.route.src.port
        assert.ok(Number.isInteger(p) && p > 0 && p < 65_536, `port ${p}`)
      } else {
        assert.ok(r.route.src.path.startsWith('/'), `path ${r.route.src.path}`)
      }
    }),
    fuzzParams(),
  )
})

test('parseTag: urlprefix-host/path round-trips host and path, with any options after it', () => {
  fc.assert(
    fc.property(host, path, fc.array(option, { maxLength: 3 }), (h, p, opts) => {
      const r = parseTag(`urlprefix-${h}${p} ${opts.join(' ')}`, 'urlprefix-', 'dc1')
      assert.ok(r !== null)
      if (!r.ok) return // an invalid option combination is rejected as a whole
      assert.deepEqual(r.route.src, { kind: 'http', host: h, path: p })
    }),
    fuzzParams(),
  )
})
