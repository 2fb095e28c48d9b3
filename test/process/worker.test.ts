/**
 * A Worker runs no checks of its own: verdicts and runtime state come from the primary's health service
 * (`applyServers`, by server id), older states are ignored, and slowstart ramps from the primary's UP time.
 */
import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { pino } from 'pino'
import { Worker } from '../../src/process/worker.js'
import { configToSnapshot } from '../../src/provider/file.js'
import { checkDefaults } from '../../src/config/defaults.js'
import type { ServerStatus } from '../../src/health/service.js'
import type { ServerSpec, ServiceSpec } from '../../src/model/snapshot.js'
import { baseConfig, patchServer, route, service } from '../helpers/lb.js'

function state(up: boolean, upSince: number, extra: Partial<ServerStatus> = {}): ServerStatus {
  return {
    id: 1,
    service: 'svc',
    server: 's0',
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
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 97_000 })
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
  const w = new Worker({ config, log: silent, accessLog: silent })
  try {
    await w.apply(configToSnapshot(config))
    const u = w.state.services.get('svc')?.upstreams[0]
    assert.ok(u !== undefined && u.health !== null)
    // Three check intervals pass (the clock started 3 s early): none ran here.
    mock.timers.tick(3_000)
    assert.equal(u.health.checks, 0, 'a check ran')
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

test('worker: a status finds the server it names when service and server names contain "/"', async () => {
  const config = baseConfig()
  const silent = pino({ level: 'silent' })
  const w = new Worker({ config, log: silent, accessLog: silent })
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
      { desc: 'server name with "/"', service: 'a', server: 'b/c', want: 'b/c' },
      { desc: 'service name with "/"', service: 'a/b', server: 'd', want: 'd' },
      { desc: 'qualified Consul name', service: 'web@consul', server: 'node-2/web-2', want: 'node-2/web-2' },
      { desc: 'unknown server', service: 'a', server: 'x', want: undefined },
      { desc: 'unknown service', service: 'a/b/c', server: '', want: undefined },
    ]
    const drained = (): string[] => {
      const out: string[] = []
      for (const svc of w.state.services.values())
        for (const u of svc.upstreams) if (u.admin === 'drain') out.push(`${u.service} ${u.name}`)
      return out
    }
    let seq = 0
    for (const c of cases) {
      const before = drained()
      seq++
      w.applyServers({
        seq,
        servers: [
          { id: seq, service: c.service, server: c.server, admin: 'drain', weight: null, health: null },
        ],
      })
      const found = drained().filter((x) => !before.includes(x))
      assert.deepEqual(found, c.want === undefined ? [] : [`${c.service} ${c.want}`], c.desc)
    }
    // Bound once by name, a server's later statuses find it by id alone.
    w.applyServers({ seq: ++seq, servers: [{ id: 2, admin: 'maint', weight: null, health: null }] })
    assert.equal(w.state.services.get('a/b')?.upstreams[1]?.admin, 'maint')
  } finally {
    await w.stop(0)
  }
})
