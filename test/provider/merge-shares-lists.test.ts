/**
 * merge.ts: a kind of list that only one provider has is that provider's list of qualified copies itself, not a
 * copy of it (at 10,000 services the copies made by pushes were most of a change's garbage); lists that several
 * providers fill are joined in provider order; an earlier merged snapshot stays as it was.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { merge, type MergeMemo } from '../../src/provider/merge.js'
import { serviceOf as service, spec } from '../helpers/route-spec.js'
import type { HttpRouteSpec, ServiceSpec, Snapshot } from '../../src/model/snapshot.js'

const route = (host: string, svc: string): HttpRouteSpec => spec(svc, host, '/')

const snap = (services: ServiceSpec[], routes: HttpRouteSpec[]): Snapshot => ({
  services,
  routes,
  tcpRoutes: [],
})

test('merge: one provider with services shares its copies list; two are joined in order; earlier results stay', () => {
  const memo: MergeMemo = new Map()
  const file = snap([], [])
  const first = merge(
    [
      { provider: 'file', snapshot: file },
      { provider: 'consul', snapshot: snap([service('a'), service('b')], [route('a.com', 'a')]) },
    ],
    memo,
  )
  const copies = memo.get('consul')
  assert.ok(copies !== undefined)
  assert.equal(first.services, copies.services.to, 'the merged services are the memo copies list')
  assert.equal(first.routes, copies.routes.to, 'the merged routes are the memo copies list')
  const frozen = [first.services.slice(), first.routes.slice()]

  // The config file adds a route and a service: those kinds are joined, file first.
  const mine = service('local')
  const local = route('local.com', 'local')
  const second = merge(
    [
      { provider: 'file', snapshot: snap([mine], [local]) },
      { provider: 'consul', snapshot: snap([service('c')], [route('c.com', 'c')]) },
    ],
    memo,
  )
  assert.deepEqual(
    second.services.map((s) => s.name),
    ['local', 'c@consul'],
  )
  assert.deepEqual(
    second.routes.map((r) => r.host),
    ['local.com', 'c.com'],
  )
  assert.equal(second.services[0], mine)
  assert.notEqual(second.services, memo.get('consul')?.services.to)
  assert.deepEqual([first.services, first.routes], frozen, 'the first merge is unchanged by the second')
})
