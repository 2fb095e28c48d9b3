/**
 * Property test: a worker fed deltas ends up with the table a full state gives. Random snapshots change step by
 * step (routes removed, new route objects added among the kept ones, services replaced); the primary's side
 * diffs each against the last (src/provider/delta.ts `diffSnapshot`), the worker's side reads what changed off
 * the delta, as structured clone delivers it over IPC, applies it into its own copy's lists (`applyDeltaInPlace`)
 * and updates its table (src/route/update.ts `updateTable`). Every step the worker's snapshot must equal the
 * primary's, and its table must describe and answer lookups as `buildTable` of the full state does, with
 * `routes[r.id] === r`; so must a table whose hosts are patched however small (`updateTable`'s `patchFrom` 0),
 * with the same ranks too.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { HttpRouteSpec, PathMatch, ServiceSpec, Snapshot } from '../../src/model/snapshot.js'
import { applyDeltaInPlace, changedBy, diffSnapshot } from '../../src/provider/delta.js'
import { buildTable, type RouteTable } from '../../src/route/table.js'
import { updateTable } from '../../src/route/update.js'
import { describeTable } from '../../src/route/describe.js'
import { lookupHttp } from '../../src/route/lookup.js'
import { fuzzParams } from './runs.js'

const HOSTS = [
  '',
  'a.test',
  'A.test:80',
  'a.test:443',
  'b.test',
  'b.test:8080',
  'c.test',
  '*.test',
  '[::1]',
] as const
const PATHS = ['/', '/x', '/x/y', '/y', '/x*', '/Z'] as const
const MATCH: readonly (PathMatch | undefined)[] = [
  undefined,
  undefined,
  'prefix',
  'iprefix',
  'glob',
  'segment',
]

const spec = fc.record({
  host: fc.constantFrom(...HOSTS),
  path: fc.constantFrom(...PATHS),
  service: fc.constantFrom('s1', 's2', 's3'),
  pathMatch: fc.constantFrom(...MATCH),
  strip: fc.constantFrom('', '/x'),
})

type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never

function route(s: Spec): HttpRouteSpec {
  const r = {
    host: s.host,
    path: s.path,
    service: s.service,
    strip: s.strip,
    prepend: '',
    hostHeader: '',
    redirect: null,
    source: 'test',
  }
  return s.pathMatch === undefined ? r : { ...r, pathMatch: s.pathMatch }
}

function service(name: string, port: number): ServiceSpec {
  return { name, servers: [{ name: `h:${port}`, host: 'h', port }] } as unknown as ServiceSpec
}

/** One step: which kept routes to drop (by a mask), new routes to put at positions, a service replaced. */
const step = fc.record({
  drop: fc.array(fc.boolean(), { maxLength: 12 }),
  add: fc.array(fc.tuple(fc.nat(12), spec), { maxLength: 4 }),
  replace: fc.nat(3),
})

function describeAll(t: RouteTable): string {
  let out = describeTable(t) + `size ${t.size} prefixOnly ${t.prefixOnly} hostless ${t.hostless}\n`
  for (const host of [
    undefined,
    '',
    'a.test',
    'A.TEST:80',
    'a.test:443',
    'b.test:8080',
    'x.test',
    '[::1]',
    'c.test',
  ])
    for (const path of ['/', '/x', '/x/y/z', '/X', '/y', '/Z', '/x*'])
      for (const tls of [false, true]) {
        const r = lookupHttp(t, host, path, tls)
        out += `${host}|${path}|${tls} → ${r === undefined ? '-' : `${r.service} ${r.host}${r.path}`}\n`
      }
  return out
}

/** Each route's rank (fabio's order within its host), by host and path. */
function ranks(t: RouteTable): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of t.routes) out[`${r.host}|${r.path}`] = r.rank
  return out
}

test('a table updated from deltas equals a full build of the same state', () => {
  fc.assert(
    fc.property(fc.array(spec, { maxLength: 10 }), fc.array(step, { maxLength: 6 }), (initial, steps) => {
      const options = { pathMatch: 'prefix' as const }
      let primary: Snapshot = {
        services: [service('s1', 1), service('s2', 2), service('s3', 3)],
        routes: initial.map(route),
        tcpRoutes: [],
      }
      // The worker starts from a full state (a copy, as IPC delivers it).
      let worker: Snapshot = structuredClone(primary)
      let table = buildTable(worker.routes, options)
      // The same updates with every host patchable however few routes it has (`patchFrom` 0): patched, not built.
      let patched = buildTable(worker.routes, options)
      for (const s of steps) {
        const routes: HttpRouteSpec[] = primary.routes.filter((_, i) => s.drop[i] !== true)
        for (const [at, x] of s.add) routes.splice(Math.min(at, routes.length), 0, route(x))
        const services = primary.services.slice()
        const i = s.replace % services.length
        services[i] = service((services[i] as ServiceSpec).name, 10 + i)
        const next: Snapshot = { services, routes, tcpRoutes: [] }
        const delta = diffSnapshot(primary, next)
        assert.ok(delta !== null, 'kept objects stay in order: a delta exists')
        // As a worker takes it (src/process/worker-process.ts `StateReceiver.delta`): what changed read off the delta
        // as IPC delivers it, then the delta applied into the worker's own lists.
        const got = structuredClone(delta)
        const before = worker.routes.slice()
        const changed = changedBy(worker, got)
        const received = applyDeltaInPlace(worker, got)
        assert.deepEqual(received, next)
        assert.deepEqual(
          changed.addedRoutes,
          received.routes.filter((r) => !before.includes(r)),
        )
        assert.deepEqual(
          changed.removedRoutes,
          before.filter((r) => !received.routes.includes(r)),
        )
        table = updateTable(table, received.routes, changed.removedRoutes, changed.addedRoutes, options)
        patched = updateTable(
          patched,
          received.routes,
          changed.removedRoutes,
          changed.addedRoutes,
          options,
          0,
        )
        worker = received
        const full = buildTable(next.routes, options)
        assert.equal(describeAll(table), describeAll(full))
        table.routes.forEach((r, id) => assert.equal(r.id, id))
        assert.equal(describeAll(patched), describeAll(full))
        patched.routes.forEach((r, id) => assert.equal(r.id, id))
        assert.deepEqual(ranks(patched), ranks(full))
        assert.equal(table.ignored.length, full.ignored.length)
        primary = next
      }
    }),
    fuzzParams(),
  )
})
