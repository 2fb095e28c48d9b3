/**
 * The health service publishes by server id: the whole state (with names) for a snapshot, then only the server
 * whose status changed; a check result that changes no verdict is published for the in-process view only
 * (`routing: false`), a verdict or an override for everyone (`routing: true`).
 */
import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { pino } from 'pino'
import { checkDefaults } from '../../src/config/defaults.js'
import { HealthService, type ServersState } from '../../src/health/service.js'
import type { ProbeResult } from '../../src/health/probes.js'
import type { ServerSpec, ServiceSpec, Snapshot } from '../../src/model/snapshot.js'

function server(name: string, port: number): ServerSpec {
  return { name, host: '127.0.0.1', port, weight: 10, backup: false, maxconn: 0, state: 'up' }
}

const plain: ServiceSpec = {
  name: 'plain',
  balance: 'roundrobin',
  retries: 0,
  timeouts: { connect: 1_000, server: 1_000, body: 1_000, keepAlive: 1_000 },
  maxConnections: 4,
  proto: 'http',
  tlsSkipVerify: false,
  servers: [server('p', 4)],
}
const svc: ServiceSpec = {
  ...plain,
  name: 'web',
  servers: [server('a', 1), server('b', 2), server('c', 3)],
  check: { ...checkDefaults, inter: 1_000, rise: 1, fall: 1, initState: 'fully-up' },
}
const snapshot: Snapshot = { services: [svc, plain], routes: [], tcpRoutes: [] }

test('health service: the whole state with names, then only what changed, by id', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
  const down = new Set<number>()
  const result = (ok: boolean): ProbeResult => ({
    ok,
    reason: ok ? 'L4OK' : 'L4CON',
    code: 0,
    detail: '',
    duration: 1,
  })
  const health = new HealthService({
    now: () => Date.now(),
    rand: () => 0.5,
    addresses: { peek: () => undefined },
    log: pino({ level: 'silent' }),
    probe: (_spec, target) => Promise.resolve(result(!down.has(target.port))),
  })
  const seen: { state: ServersState; routing: boolean }[] = []
  health.subscribe((state, routing) => seen.push({ state, routing }))
  try {
    health.sync(snapshot)
    const full = health.state()
    const names = full.servers.map((s) => `${s.service}/${s.server}`)
    assert.deepEqual(names, ['web/a', 'web/b', 'web/c'], 'checked servers only, each with its names')
    const idOf = new Map(full.servers.map((s) => [s.server, s.id]))

    mock.timers.tick(1_000)
    await health.settled()
    assert.ok(seen.length > 0 && seen.every((s) => !s.routing), 'passing checks change no verdict')
    seen.length = 0

    down.add(2)
    mock.timers.tick(1_000)
    await health.settled()
    const routing = seen.filter((s) => s.routing)
    assert.equal(routing.length, 1)
    const [status] = routing[0]?.state.servers ?? []
    assert.equal(status?.id, idOf.get('b'))
    assert.equal(status?.health?.up, false)
    assert.equal(status?.service, undefined, 'an id published before carries no names')

    seen.length = 0
    health.setServerWeight('plain', 'p', '50%')
    assert.equal(seen.length, 1)
    const override = seen[0]?.state.servers[0]
    assert.equal(seen[0]?.routing, true)
    assert.deepEqual(
      {
        service: override?.service,
        server: override?.server,
        weight: override?.weight,
        health: override?.health,
      },
      { service: 'plain', server: 'p', weight: 5, health: null },
      'a new record (an override of an unchecked server) is published with its names',
    )
    assert.ok(seen.every((s) => s.state.seq > full.seq))
  } finally {
    health.stop()
    mock.timers.reset()
  }
})
