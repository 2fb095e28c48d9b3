/**
 * `applyDeltaInPlace` (src/provider/delta.ts) changes a snapshot's lists into what `applyDelta` makes of them, and
 * leaves a snapshot untouched when the delta does not fit it. Property test over random lists, as
 * test/fuzz/table-delta.fuzz.test.ts makes its steps: kept objects dropped, new ones put at positions.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { HttpRouteSpec, ServiceSpec, Snapshot } from '../../src/model/snapshot.js'
import { applyDelta, applyDeltaInPlace, diffSnapshot, type SnapshotDelta } from '../../src/provider/delta.js'
import { fuzzParams } from '../fuzz/runs.js'

let made = 0
const item = (): object => ({ n: made++ })

function snapshot(services: object[], routes: object[], tcp: object[], page?: string): Snapshot {
  const s = {
    services: services as ServiceSpec[],
    routes: routes as HttpRouteSpec[],
    tcpRoutes: tcp as unknown as Snapshot['tcpRoutes'],
  }
  return page === undefined ? s : { ...s, noRoutePage: page }
}

/** `list` without the items `drop` marks, with `add` new items put at their positions. */
function changed(list: readonly object[], drop: readonly boolean[], add: readonly number[]): object[] {
  const out = list.filter((_, i) => drop[i] !== true)
  for (const at of add) out.splice(Math.min(at, out.length), 0, item())
  return out
}

const listStep = fc.record({
  drop: fc.array(fc.boolean(), { maxLength: 12 }),
  add: fc.array(fc.nat(12), { maxLength: 4 }),
})

test('a delta applied in place gives the lists applyDelta makes', () => {
  fc.assert(
    fc.property(
      fc.nat(10),
      fc.nat(10),
      fc.nat(3),
      listStep,
      listStep,
      listStep,
      fc.constantFrom(undefined, '', 'page'),
      (ns, nr, nt, s, r, t, page) => {
        const prev = snapshot(
          Array.from({ length: ns }, item),
          Array.from({ length: nr }, item),
          Array.from({ length: nt }, item),
        )
        const next = snapshot(
          changed(prev.services, s.drop, s.add),
          changed(prev.routes, r.drop, r.add),
          changed(prev.tcpRoutes, t.drop, t.add),
          page,
        )
        const delta = diffSnapshot(prev, next) as SnapshotDelta
        const expected = applyDelta(prev, delta)
        const tcpBefore = prev.tcpRoutes
        const tcpCopy = tcpBefore.slice()
        const got = applyDeltaInPlace(prev, delta)
        assert.equal(got.services, prev.services)
        assert.equal(got.routes, prev.routes)
        assert.deepEqual(got, expected)
        got.services.forEach((x, i) => assert.equal(x, expected.services[i]))
        got.routes.forEach((x, i) => assert.equal(x, expected.routes[i]))
        // The TCP routes a listener may read until the swap are never changed in place.
        assert.equal(tcpBefore.length, tcpCopy.length)
        tcpBefore.forEach((x, i) => assert.equal(x, tcpCopy[i]))
      },
    ),
    fuzzParams(),
  )
})

test('a delta that does not fit leaves the snapshot as it was', () => {
  const prev = snapshot([item(), item()], [item()], [])
  const before = { services: prev.services.slice(), routes: prev.routes.slice() }
  const none = { removed: [], added: [] }
  const bad: SnapshotDelta[] = [
    { services: { removed: [2], added: [] }, routes: none, tcpRoutes: none, noRoutePage: null },
    { services: { removed: [1, 0], added: [] }, routes: none, tcpRoutes: none, noRoutePage: null },
    {
      services: none,
      routes: { removed: [0], added: [[1, item() as HttpRouteSpec]] },
      tcpRoutes: none,
      noRoutePage: null,
    },
    {
      services: { removed: [0], added: [] },
      routes: {
        removed: [],
        added: [
          [0, item() as HttpRouteSpec],
          [0, item() as HttpRouteSpec],
        ],
      },
      tcpRoutes: none,
      noRoutePage: null,
    },
  ]
  for (const delta of bad) {
    assert.throws(() => applyDeltaInPlace(prev, delta), RangeError)
    assert.deepEqual(prev.services, before.services)
    assert.deepEqual(prev.routes, before.routes)
  }
})
