/**
 * GET /api/dashboard: the services most worth a look first (a server DOWN before the busy ones), at most
 * `limit` of them with only their servers, `q` filtering before the limit, each server's check events with
 * their reasons, the traffic of the latest sample, and `consul: null` without Consul.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkDefaults } from '../../src/config/defaults.js'
import { counted, startAdmin } from '../helpers/admin.js'
import { get } from '../helpers/client.js'
import { route, service } from '../helpers/lb.js'
import { deadPort, startUpstream } from '../helpers/upstream.js'

interface Dash {
  totals: { services: number; matching: number; shown: number; servers: number }
  consul: unknown
  failing: { kind: string; name: string; why: string }[]
  services: { service: string; traffic: { rps: number } | null }[]
  servers: { service: string; server: string; status: string; events: { kind: string; result: string }[] }[]
}

test('admin GET /api/dashboard: ordering, limit, filter, events, traffic', async () => {
  const up = await startUpstream('up')
  const dead = await deadPort()
  const a = await startAdmin((c) => {
    c.services = [
      service('alpha', [up.port]),
      service('busy', [up.port]),
      service('broken', [up.port, dead], { check: { ...checkDefaults, inter: 100, rise: 1, fall: 1 } }),
    ]
    c.routes = [route('', '/a', 'alpha'), route('', '/b', 'busy'), route('', '/x', 'broken')]
  })
  try {
    const s1 = a.lb.worker.state.services.get('broken')?.upstreams.find((u) => u.name === 's1')
    await new Promise<void>((resolve) => {
      if (s1?.up === false) resolve()
      a.lb.health.subscribe(() => s1?.up === false && resolve())
    })
    const t0 = Date.now()
    a.sample(t0)
    for (let i = 0; i < 5; i++) assert.equal((await get(a.lb.url, '/b')).status, 200)
    // lb counts a request where it writes its access line, which may be just after the client has the answer.
    await counted(a.lb.access, 5)
    a.sample(t0 + 10_000)

    const all = JSON.parse((await a.get('/api/dashboard')).body) as Dash
    assert.equal(all.consul, null)
    assert.deepEqual(all.totals, { services: 3, matching: 3, shown: 3, servers: 4 })
    assert.deepEqual(
      all.services.map((s) => s.service),
      ['broken', 'busy', 'alpha'],
      'a server down first, then by req/s',
    )
    assert.equal(all.services[1]?.traffic?.rps, 0.5)
    assert.deepEqual(all.failing[0], { kind: 'server', name: 'broken/s1', why: all.failing[0]?.why })
    assert.match(all.failing[0]?.why ?? '', /^DOWN: L4CON/)
    const events = all.servers.find((s) => s.server === 's1' && s.service === 'broken')?.events ?? []
    assert.ok(
      events.some((e) => e.kind === 'check' && e.result === 'L4CON'),
      JSON.stringify(events),
    )
    assert.ok(
      events.some((e) => e.kind === 'state' && e.result === 'DOWN'),
      JSON.stringify(events),
    )

    const one = JSON.parse((await a.get('/api/dashboard?limit=1')).body) as Dash
    assert.deepEqual(
      one.services.map((s) => s.service),
      ['broken'],
    )
    assert.deepEqual(new Set(one.servers.map((s) => s.service)), new Set(['broken']), 'only its servers')
    assert.deepEqual(one.totals, { services: 3, matching: 3, shown: 1, servers: 2 })

    const filtered = JSON.parse((await a.get('/api/dashboard?q=ALP')).body) as Dash
    assert.deepEqual(
      filtered.services.map((s) => s.service),
      ['alpha'],
    )
    const byRoute = JSON.parse((await a.get('/api/dashboard?q=/b')).body) as Dash
    assert.deepEqual(
      byRoute.services.map((s) => s.service),
      ['busy'],
    )
  } finally {
    await a.close()
    await up.close()
  }
})
