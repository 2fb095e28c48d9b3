/**
 * Property test: a Worker and its health service fed one changed snapshot after another (process/local.ts
 * `applyLocal`, which patches the upstream runtimes, the health service's map and the metrics maps for the
 * services that changed) hold what a fresh Worker that applies the last snapshot whole holds: a runtime for every
 * service and no other, each with the snapshot's spec; the runtimes of unchanged specs kept as the same objects;
 * and the health service's view of which servers exist (runtime `set weight` finds exactly the current ones).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { pino } from 'pino'
import { Worker } from '../../src/process/worker.js'
import { applyLocal, localHealth } from '../../src/process/local.js'
import { configToSnapshot } from '../../src/provider/file.js'
import type { HttpRouteSpec, ServiceSpec, Snapshot } from '../../src/model/snapshot.js'
import { baseConfig, route, service } from '../helpers/lb.js'
import { fuzzParams } from './runs.js'

const NAMES = ['s0', 's1', 's2', 's3', 's4', 's5'] as const

/** One step: per service name, keep it, drop it, or give it a new spec (another port). */
const step = fc.array(fc.constantFrom('keep', 'drop', 'new', 'keep'), {
  minLength: NAMES.length,
  maxLength: NAMES.length,
})

function world(): {
  worker: Worker
  health: ReturnType<typeof localHealth>
  specs: Map<string, ServiceSpec>
  routes: Map<string, HttpRouteSpec>
} {
  const config = baseConfig()
  config.services = NAMES.map((n, i) => service(n, [1000 + i]))
  config.routes = NAMES.map((n) => route(`${n}.test`, '/', n))
  const silent = pino({ level: 'silent' })
  const worker = new Worker({ config, log: silent, accessLog: silent })
  const health = localHealth(worker, silent)
  const base = configToSnapshot(config)
  return {
    worker,
    health,
    specs: new Map(base.services.map((s) => [s.name, s])),
    routes: new Map(base.routes.map((r) => [r.service, r])),
  }
}

function snapshotOf(services: readonly ServiceSpec[], routes: Map<string, HttpRouteSpec>): Snapshot {
  return { services, routes: services.map((s) => routes.get(s.name) as HttpRouteSpec), tcpRoutes: [] }
}

function weightSettable(health: ReturnType<typeof localHealth>, svc: string, server: string): boolean {
  try {
    health.setServerWeight(svc, server, 1)
    return true
  } catch {
    return false
  }
}

test('a worker applying changes holds what a whole apply of the same snapshot holds', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
      const { worker, health, specs, routes } = world()
      let current = new Map(specs)
      let port = 2000
      try {
        await applyLocal(worker, health, snapshotOf([...current.values()], routes))
        for (const s of steps) {
          const before = new Map(worker.upstreams.services)
          const next = new Map<string, ServiceSpec>()
          NAMES.forEach((n, i) => {
            const was = current.get(n) ?? specs.get(n)
            if (was === undefined || s[i] === 'drop') return
            if (s[i] === 'keep' && current.has(n)) next.set(n, was)
            else
              next.set(n, {
                ...was,
                servers: [{ ...(was.servers[0] as ServiceSpec['servers'][number]), port: port++ }],
              })
          })
          const snapshot = snapshotOf([...next.values()], routes)
          await applyLocal(worker, health, snapshot)
          const services = worker.upstreams.services
          assert.deepEqual([...services.keys()].sort(), [...next.keys()].sort())
          for (const [n, spec] of next) {
            assert.equal(services.get(n)?.spec, spec, `${n}: the snapshot's spec`)
            if (current.get(n) === spec) assert.equal(services.get(n), before.get(n), `${n}: kept whole`)
          }
          const fresh = world()
          await applyLocal(fresh.worker, fresh.health, snapshot)
          for (const n of NAMES) {
            const server = (next.get(n) ?? current.get(n) ?? specs.get(n))?.servers[0]?.name ?? ''
            assert.equal(
              weightSettable(health, n, server),
              weightSettable(fresh.health, n, server),
              `${n}/${server}`,
            )
          }
          await fresh.worker.stop(0)
          fresh.health.stop()
          current = next
        }
      } finally {
        await worker.stop(0)
        health.stop()
      }
    }),
    fuzzParams(50),
  )
})
