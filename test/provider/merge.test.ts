/** merge.ts: canonical order, qualification, and the MergeMemo keeping unchanged objects identical. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonical, merge, type MergeMemo } from '../../src/provider/merge.js'
import { serviceOf as service } from '../helpers/route-spec.js'
import type { ServiceSpec, Snapshot } from '../../src/model/snapshot.js'

const route = (host: string, path: string, svc: string): Snapshot['routes'][number] => ({
  host,
  path,
  service: svc,
  strip: '',
  prepend: '',
  hostHeader: '',
  redirect: null,
  source: 'test',
})

test('canonical: sorts what is out of order; an already canonical snapshot is returned as it is', () => {
  const sorted: Snapshot = {
    services: [service('a', ['x', 'y']), service('b', ['z'])],
    routes: [route('a.com', '/', 'a'), route('b.com', '/', 'b')],
    tcpRoutes: [],
  }
  assert.equal(canonical(sorted), sorted)
  const unsorted: Snapshot = {
    services: [service('b', ['z']), service('a', ['y', 'x'])],
    routes: [route('b.com', '/', 'b'), route('a.com', '/', 'a')],
    tcpRoutes: [],
  }
  const c = canonical(unsorted)
  assert.deepEqual(c, sorted)
  assert.deepEqual(
    unsorted.services[1]?.servers.map((s) => s.name),
    ['y', 'x'],
    'input not mutated',
  )
})

test('canonical: a sorted copy keeps the no-route page; a canonical result is returned as it is', () => {
  const unsorted: Snapshot = {
    services: [service('b', ['z']), service('a', ['x'])],
    routes: [],
    tcpRoutes: [],
    noRoutePage: '<p>none</p>',
  }
  const c = canonical(unsorted)
  assert.notEqual(c, unsorted)
  assert.equal(c.noRoutePage, '<p>none</p>')
  assert.equal(canonical(c), c)
})

test('merge with a memo: an unchanged provider object merges to the same qualified object', () => {
  const memo: MergeMemo = new Map()
  const a = service('web', ['n1'])
  const r = route('web.com', '/', 'web')
  const first = merge([{ provider: 'consul', snapshot: { services: [a], routes: [r], tcpRoutes: [] } }], memo)
  assert.equal(first.services[0]?.name, 'web@consul')
  assert.equal(first.routes[0]?.service, 'web@consul')
  const b = service('api', ['n2'])
  const second = merge(
    [{ provider: 'consul', snapshot: { services: [b, a], routes: [r], tcpRoutes: [] } }],
    memo,
  )
  assert.equal(second.services[1], first.services[0])
  assert.equal(second.routes[0], first.routes[0])
  assert.equal(second.services[0]?.name, 'api@consul')
  // The same object from another provider is qualified for that provider, not taken from the memo.
  const other = merge([{ provider: 'k8s', snapshot: { services: [a], routes: [], tcpRoutes: [] } }], memo)
  assert.equal(other.services[0]?.name, 'web@k8s')
})

test('merge with a memo: changed, new and same-key objects get their own copies', () => {
  const memo: MergeMemo = new Map()
  const a = service('a', ['n1'])
  const b = service('b', ['n1'])
  const r1 = route('x.com', '/', 'a')
  const r2 = route('x.com', '/', 'b') // same host and path as r1 (the table keeps the first)
  const r3 = route('y.com', '/', 'b')
  const snap = (services: ServiceSpec[], routes: Snapshot['routes']): Snapshot => ({
    services,
    routes,
    tcpRoutes: [],
  })
  const first = merge([{ provider: 'consul', snapshot: snap([a, b], [r1, r2, r3]) }], memo)
  assert.deepEqual(
    first.routes.map((r) => r.service),
    ['a@consul', 'b@consul', 'b@consul'],
  )
  const cases = [
    { desc: 'unchanged', snapshot: snap([a, b], [r1, r2, r3]), same: [true, true, true] },
    {
      desc: 'the second of two same-key routes replaced',
      snapshot: snap([a, b], [r1, { ...r2 }, r3]),
      same: [true, false, true],
    },
    {
      desc: 'a route before them added',
      snapshot: snap([a, b], [route('a.com', '/', 'a'), r1, r2, r3]),
      same: [false, true, true, true],
    },
    { desc: 'the first route removed', snapshot: snap([a, b], [r2, r3]), same: [true, true] },
  ]
  for (const c of cases) {
    const before = merge([{ provider: 'consul', snapshot: snap([a, b], [r1, r2, r3]) }], memo)
    const got = merge([{ provider: 'consul', snapshot: c.snapshot }], memo)
    const was = new Set<object>(before.routes)
    assert.deepEqual(
      got.routes.map((r) => was.has(r)),
      c.same,
      c.desc,
    )
    assert.deepEqual(
      got,
      merge([{ provider: 'consul', snapshot: c.snapshot }]),
      `${c.desc}: equal to a merge without memo`,
    )
  }
  assert.equal(
    merge([{ provider: 'consul', snapshot: snap([a, b], [r1]) }], memo).services[1],
    first.services[1],
  )
})
