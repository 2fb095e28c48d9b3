/** merge.ts: canonical order, qualification, and the MergeMemo keeping unchanged objects identical. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { canonical, merge, type MergeMemo } from '../../src/provider/merge.js'
import { defaultConfig } from '../../src/config/schema.js'
import type { ServiceSpec, Snapshot } from '../../src/snapshot.js'

function service(name: string, servers: readonly string[]): ServiceSpec {
  const d = defaultConfig.defaults
  return {
    name,
    balance: d.balance,
    retries: d.retries,
    timeouts: d.timeouts,
    maxConnections: d.maxConnections,
    proto: 'http',
    tlsSkipVerify: false,
    servers: servers.map((s) => ({
      name: s,
      host: '10.0.0.1',
      port: 80,
      weight: 1,
      backup: false,
      maxconn: 0,
      state: 'up' as const,
    })),
  }
}

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
