/**
 * UpstreamSet.apply keeps the runtime of a service whose spec is the same object as last time (providers and
 * merge keep unchanged services as the same objects): its pool (balancer position) and upstreams survive a
 * change elsewhere; a changed spec gets a new runtime that still keeps the upstreams whose pool identity held.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultConfig } from '../../src/config/defaults.js'
import { UpstreamSet } from '../../src/proxy/upstream.js'
import { Deadlines } from '../../src/proxy/timers.js'
import type { ServerSpec, ServiceSpec, Snapshot } from '../../src/model/snapshot.js'

const d = defaultConfig.defaults

function service(name: string, ports: number[]): ServiceSpec {
  return {
    name,
    balance: 'roundrobin',
    retries: d.retries,
    timeouts: d.timeouts,
    maxConnections: d.maxConnections,
    proto: 'http',
    tlsSkipVerify: false,
    servers: ports.map((port) => ({
      name: `${name}-${port}`,
      host: '127.0.0.1',
      port,
      weight: 1,
      backup: false,
      maxconn: 0,
      state: 'up' as const,
    })),
  }
}

const env = (): { deadlines: Deadlines; maxHeaderSize: number } => ({
  deadlines: new Deadlines(),
  maxHeaderSize: 16_384,
})

const snap = (services: ServiceSpec[]): Snapshot => ({ services, routes: [], tcpRoutes: [] })

test('an unchanged service keeps its runtime; a changed one is rebuilt around its kept upstreams', () => {
  const set = new UpstreamSet(env(), { peek: () => undefined, failure: () => '' })
  const a = service('a', [1, 2, 3])
  const b = service('b', [4, 5])
  const first = set.apply(snap([a, b]))
  // Made on first use (a request, a check, the admin API); these are in use.
  for (const svc of first.values()) assert.equal(svc.upstreams.length, svc.spec.servers.length)
  const b2 = service('b', [4, 5, 6])
  const second = set.apply(snap([a, b2]))
  assert.equal(second.get('a'), first.get('a'))
  assert.notEqual(second.get('b'), first.get('b'))
  assert.equal(second.get('b')?.upstreams[0], first.get('b')?.upstreams[0])
  assert.equal([...set.all()].length, 6)
  // An equal but new spec object is not trusted to be unchanged: rebuilt.
  const third = set.apply(snap([service('a', [1, 2, 3]), b2]))
  assert.notEqual(third.get('a'), second.get('a'))
  assert.equal(third.get('a')?.upstreams[1], second.get('a')?.upstreams[1])
  // A service that disappears and comes back is new: its upstreams are made again on first use.
  set.apply(snap([b2]))
  assert.equal([...set.all()].length, 3)
  const back = set.apply(snap([a, b2]))
  assert.equal([...set.all()].length, 3)
  assert.equal(back.get('a')?.upstreams.length, 3)
  assert.equal([...set.all()].length, 6)
})

test('a service’s upstreams are made on first use; a scrape’s view does not make them; hostnames come from specs', async () => {
  const set = new UpstreamSet(env(), { peek: () => undefined, failure: () => 'NXDOMAIN' })
  const named = {
    ...service('n', [1]),
    servers: [{ ...(service('n', [1]).servers[0] as ServerSpec), host: 'db.internal' }],
  }
  const rt = set.apply(snap([service('a', [1, 2]), named]))
  const a = rt.get('a')
  assert.ok(a !== undefined)
  assert.equal(a.madeUpstreams, null)
  assert.equal(a.madeQueue, null)
  assert.equal([...set.all()].length, 0)
  assert.deepEqual([...set.hostnames()], ['db.internal'], 'a server not made yet is resolved too')
  const view = a.peekUpstreams()
  assert.deepEqual(
    view.map((u) => [u.label, u.up]),
    [
      ['a/a-1', true],
      ['a/a-2', true],
    ],
  )
  assert.equal(a.madeUpstreams, null, 'the view is not kept')
  assert.deepEqual(
    rt
      .get('n')
      ?.peekUpstreams()
      .map((u) => [u.up, u.downReason]),
    [[false, 'NXDOMAIN']],
    'the view shows an unresolved server down',
  )
  assert.equal(a.madeQueue, null, 'nor its queue')
  const ups = a.upstreams
  assert.equal(a.madeUpstreams, ups)
  assert.ok(a.madeQueue !== null && ups.every((u) => u.queue === a.madeQueue), 'one queue, made with them')
  assert.equal(a.peekUpstreams(), ups)
  assert.equal(a.pool.normal, ups)
  assert.deepEqual([...set.all()], ups)
  // A changed spec keeps the made upstreams; an unchanged-name service that was never used stays unmade.
  const next = set.apply(snap([service('a', [1, 2, 3]), { ...named }]))
  assert.equal(next.get('a')?.madeUpstreams?.[0], ups[0])
  assert.equal(next.get('a')?.queue, a.queue, 'the queue outlives the runtime')
  assert.equal(next.get('n')?.madeUpstreams, null)
  set.destroy()
})

test('a server whose pool settings changed gets a new upstream, and the old one’s pool is closed', async () => {
  const set = new UpstreamSet(env(), { peek: () => undefined, failure: () => '' })
  const a = service('a', [1, 2])
  const [u1, u2] = set.apply(snap([a])).get('a')?.upstreams ?? []
  assert.ok(u1 !== undefined && u2 !== undefined)
  // Pools are created on first use, from the resolved address and the service's settings.
  assert.equal(u1.pool, null)
  const pool = u1.ensurePool()
  assert.notEqual(pool, null)
  assert.equal(u1.ensurePool(), pool)
  const slower = { ...a, timeouts: { ...a.timeouts, connect: a.timeouts.connect + 1 } }
  const [v1, v2] = set.apply(snap([slower])).get('a')?.upstreams ?? []
  assert.notEqual(v1, u1)
  assert.notEqual(v2, u2)
  assert.equal(u1.pool, null, 'the replaced upstream’s pool is closed')
  // Same pool settings under a new spec object (weight is not pool identity): kept.
  const heavier = { ...slower, servers: slower.servers.map((s) => ({ ...s, weight: 2 })) }
  const [w1] = set.apply(snap([heavier])).get('a')?.upstreams ?? []
  assert.equal(w1, v1)
  assert.equal(w1?.weight, 2)
  set.destroy()
})

test('a server or service that leaves the snapshot has its pool closed; a repeated server name is kept once', async () => {
  const set = new UpstreamSet(env(), { peek: () => undefined, failure: () => '' })
  const a = service('a', [1, 2])
  const b = service('b', [3])
  const first = set.apply(snap([a, b]))
  const [a1, a2] = first.get('a')?.upstreams ?? []
  const [b1] = first.get('b')?.upstreams ?? []
  assert.ok(a1 !== undefined && a2 !== undefined && b1 !== undefined)
  for (const u of [a1, a2, b1]) assert.notEqual(u.ensurePool(), null)
  // Server a-2 leaves service a, service b leaves the snapshot.
  const second = set.apply(snap([service('a', [1])]))
  assert.equal(second.get('a')?.upstreams[0], a1)
  assert.notEqual(a1.pool, null, 'the kept upstream keeps its pool')
  assert.equal(a2.pool, null, 'the removed server’s pool is closed')
  assert.equal(b1.pool, null, 'the removed service’s pool is closed')
  assert.equal(a1.label, 'a/a-1')
  // The same server name twice (a bad snapshot): one keeps the upstream, the other gets a new one.
  const twice = service('a', [1, 1])
  const [t1, t2] = set.apply(snap([twice])).get('a')?.upstreams ?? []
  assert.equal(t1, a1)
  assert.ok(t2 !== undefined && t2 !== a1)
  set.destroy()
})

test('a service’s balancer is made on first use and kept with its runtime; an unknown balance fails the apply', async () => {
  const set = new UpstreamSet(env(), { peek: () => undefined, failure: () => '' })
  const a = service('a', [1, 2])
  const rt = set.apply(snap([a])).get('a')
  assert.ok(rt !== undefined)
  const pool = rt.pool
  assert.deepEqual(pool.normal, rt.upstreams)
  assert.equal(rt.pool, pool, 'the same pool on every use')
  assert.equal(set.apply(snap([a, service('b', [3])])).get('a')?.pool, pool, 'kept with an unchanged service')
  assert.equal(rt.queue.length, 0)
  const bad = { ...a, balance: 'nope' as ServiceSpec['balance'] }
  assert.throws(() => set.apply(snap([bad])), /unknown balance algorithm "nope"/)
  set.destroy()
})
