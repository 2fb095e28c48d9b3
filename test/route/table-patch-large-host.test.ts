import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { HttpRouteSpec } from '../../src/model/snapshot.js'
import { buildTable, type Route } from '../../src/route/table.js'
import { updateTable } from '../../src/route/update.js'
import { describeTable } from '../../src/route/describe.js'
import { lookupHttp } from '../../src/route/lookup.js'

// fabio's path routes (`urlprefix-/svc`) all sit on the catch-all host: at 10,000 Consul services, building that
// host again for every change made 10,000 routes and their trie each time.

function spec(path: string, service: string): HttpRouteSpec {
  return { host: '', path, service, strip: '', prepend: '', hostHeader: '', redirect: null, source: 'test' }
}

test('a change to a few path routes of a large host keeps its other routes as they are', () => {
  const options = { pathMatch: 'prefix' as const }
  const specs = Array.from({ length: 200 }, (_, i) => spec(`/svc-${i}`, `s${i}`))
  const table = buildTable(specs, options)
  const before = new Map<string, Route>(table.routes.map((r) => [r.path, r]))

  const gone = specs[5] as HttpRouteSpec
  const replaced = specs[7] as HttpRouteSpec
  const added = [spec('/svc-new', 'new'), spec('/svc-7', 's7-moved')]
  const next = specs.filter((s) => s !== gone && s !== replaced).concat(added)
  const updated = updateTable(table, next, [gone, replaced], added, options)

  let kept = 0
  for (const r of updated.routes) {
    const old = before.get(r.path)
    if (r.path === '/svc-new' || r.path === '/svc-7') assert.notEqual(r, old)
    else if (r === old) kept++
  }
  // Routes keep their objects and ids; the one whose id moves into a gap is made again.
  assert.ok(kept >= 196, `${kept} of 198 routes kept`)
  updated.routes.forEach((r, id) => assert.equal(r.id, id))
  assert.equal(describeTable(updated), describeTable(buildTable(next, options)))
  assert.equal(lookupHttp(updated, 'x.test', '/svc-new/a', false)?.service, 'new')
  assert.equal(lookupHttp(updated, 'x.test', '/svc-7', false)?.service, 's7-moved')
  assert.equal(lookupHttp(updated, 'x.test', '/svc-5', false), undefined)
  assert.equal(lookupHttp(updated, 'x.test', '/svc-50', false)?.service, 's50')
})
