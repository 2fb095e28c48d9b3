/**
 * Worker with remote health (a cluster worker process): no checks of its own, verdicts and runtime state come
 * whole from the primary (`applyServers`), older states are ignored, and slowstart ramps from the primary's
 * UP time.
 */
import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { pino } from 'pino'
import { Worker } from '../../src/process/worker.js'
import { configToSnapshot } from '../../src/provider/file.js'
import { checkDefaults } from '../../src/config/defaults.js'
import type { ServerState } from '../../src/process/ipc.js'
import type { ServerSpec, ServiceSpec } from '../../src/model/snapshot.js'
import { baseConfig, patchServer, route, service } from '../helpers/lb.js'

function state(up: boolean, upSince: number, extra: Partial<ServerState> = {}): ServerState {
  return {
    label: 'svc/s0',
    admin: null,
    weight: null,
    health: {
      up,
      health: up ? 2 : 0,
      upSince,
      last: null,
      lastPassive: '',
      checks: 7,
      failedChecks: 1,
      downTransitions: 1,
    },
    ...extra,
  }
}

test('worker: remote health runs no checks and takes verdicts, runtime state and the slowstart start', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 100_000 })
  const config = baseConfig()
  const svc = {
    ...service('svc', [1]),
    slowstart: 10_000,
    check: { ...checkDefaults, inter: 1_000, initState: 'fully-down' as const },
  }
  patchServer(svc, 0, { weight: 100 })
  config.services = [svc]
  config.routes = [route('', '/', 'svc')]
  const silent = pino({ level: 'silent' })
  const w = new Worker({ config, log: silent, accessLog: silent, remoteHealth: true })
  try {
    await w.apply(configToSnapshot(config))
    const u = w.upstream('svc/s0')
    assert.ok(u !== undefined && u.health !== null)
    assert.equal(u.health.paused, true)
    assert.equal(u.health.heapIndex, -1, 'a check is scheduled')
    assert.equal(u.up, false)

    // UP since 5 s ago in the primary: half-way through the 10 s ramp here too.
    w.applyServers({ seq: 2, servers: [state(true, 95_000)] })
    assert.equal(u.up, true)
    assert.equal(u.health.checks, 7)
    assert.equal(u.effectiveWeight, 50)
    mock.timers.tick(1_000)
    assert.equal(u.effectiveWeight, 60)
    mock.timers.tick(5_000)
    assert.equal(u.effectiveWeight, 100)

    // An older state is ignored; a newer one with runtime overrides applies.
    w.applyServers({ seq: 1, servers: [state(false, 0)] })
    assert.equal(u.up, true)
    w.applyServers({ seq: 3, servers: [state(true, 95_000, { admin: 'drain', weight: 7 })] })
    assert.equal(u.admin, 'drain')
    assert.equal(u.effectiveWeight, 7)
    w.applyServers({ seq: 4, servers: [state(false, 95_000)] })
    assert.equal(u.up, false)
    assert.equal(u.admin, 'ready')
  } finally {
    await w.stop(0)
    mock.timers.reset()
  }
})

test('worker: upstream(label) finds a server whose service and server names contain "/"', async () => {
  const config = baseConfig()
  const silent = pino({ level: 'silent' })
  const w = new Worker({ config, log: silent, accessLog: silent, remoteHealth: true })
  const base = service('unused', [1])
  const server = (name: string): ServerSpec => ({ ...(base.servers[0] as ServerSpec), name })
  const spec = (name: string, servers: string[]): ServiceSpec => ({
    ...(configToSnapshot({ ...config, services: [base], routes: [] }).services[0] as ServiceSpec),
    name,
    servers: servers.map(server),
  })
  try {
    await w.apply({
      services: [spec('a', ['b/c']), spec('a/b', ['c', 'd']), spec('web@consul', ['node-2/web-2'])],
      routes: [],
      tcpRoutes: [],
    })
    const cases = [
      { desc: 'server name with "/"', label: 'a/b/c', want: 'b/c' },
      { desc: 'service name with "/"', label: 'a/b/d', want: 'd' },
      { desc: 'qualified Consul name', label: 'web@consul/node-2/web-2', want: 'node-2/web-2' },
      { desc: 'unknown server', label: 'a/x', want: undefined },
      { desc: 'no "/"', label: 'a', want: undefined },
    ]
    for (const c of cases) assert.equal(w.upstream(c.label)?.name, c.want, c.desc)
    assert.equal(w.upstream('a/b/d')?.service, 'a/b')
  } finally {
    await w.stop(0)
  }
})
