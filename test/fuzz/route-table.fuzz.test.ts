/**
 * fast-check version of test/route/table.property.test.ts: lookupHttp equals the brute-force reference
 * (test/route/table.reference.ts) on random tables, with shrinking to a minimal table + request on failure. The
 * alphabet is wider than the seeded test's: path segments with dots, `%2F`, `;`, `//`, upper case and non-ASCII,
 * hosts with ports, trailing dots and IPv6 literals, URLs with queries and fragments of slashes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { buildTable } from '../../src/route/table.js'
import { describeTable } from '../../src/route/describe.js'
import { lookupHttp } from '../../src/route/lookup.js'
import { reference, spec } from '../route/table.reference.js'
import { fuzzParams } from './runs.js'

const label = fc.constantFrom('a', 'b', 'ab', 'x', 'ex', 'A', 'xn--e1a', '0')
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.'))
const port = fc.constantFrom('', '', '', ':80', ':443', ':8080', ':81')
const routeHost = fc.oneof(
  fc.constant(''),
  fc.tuple(domain, port).map(([d, p]) => d + p),
  fc.tuple(domain, port).map(([d, p]) => '*.' + d + p),
  fc.constantFrom('[::1]', '[fe80::a]:8080', '10.0.0.1', '*'),
)
const segment = fc.constantFrom('a', 'b', 'ab', 'A', '.', '..', '%2F', '%2e', 'a;b', 'é', '', 'a.b', '~')
const path = fc
  .tuple(fc.array(segment, { maxLength: 4 }), fc.boolean())
  .map(([segs, slash]) => '/' + segs.join('/') + (slash && segs.length > 0 ? '/' : ''))
const requestHost = fc.oneof(
  fc.constant(undefined),
  fc.tuple(fc.option(label, { nil: undefined }), domain, port, fc.boolean()).map(([pre, d, p, dot]) => {
    return (pre === undefined ? '' : pre + '.') + d + (dot ? '.' : '') + p
  }),
  fc.constantFrom('', '[::1]', '[FE80::A]:8080', '10.0.0.1:80', ':', 'a:b:c'),
)
const query = fc.constantFrom('', '', '?', '?q=1', '?next=/a/b', '#/a', '?/')

test('lookupHttp equals the brute-force reference on random tables (fast-check)', () => {
  const table = fc.array(fc.tuple(routeHost, path), { maxLength: 10 })
  fc.assert(
    fc.property(
      table,
      fc.constantFrom('prefix' as const, 'segment' as const),
      fc.array(
        fc.tuple(
          requestHost,
          fc.oneof(
            path,
            path.map((p) => p + 'a'),
          ),
          query,
        ),
        {
          minLength: 1,
          maxLength: 6,
        },
      ),
      fc.boolean(),
      (routes, mode, requests, reuse) => {
        const specs = routes.map(([h, p], i) => spec(h, p, i))
        const built = buildTable(specs, { pathMatch: mode })
        for (const [h0, p0, q] of requests) {
          // Half the time ask for a route's own host and path (plus extra) so lookups hit as well as miss.
          const r0 = specs[0]
          const host = reuse && r0 !== undefined ? r0.host.replace(/^\*/, 'x') : h0
          const url = (reuse && r0 !== undefined ? r0.path + p0.slice(1) : p0) + q
          const got = lookupHttp(built, host, url)
          const want = reference(specs, mode, host, url)
          assert.deepEqual(
            got === undefined ? undefined : { id: got.id, host: got.host, path: got.path },
            want,
            `${mode}, host ${JSON.stringify(host)}, url ${JSON.stringify(url)}\n` + describeTable(built),
          )
        }
      },
    ),
    fuzzParams(),
  )
})
