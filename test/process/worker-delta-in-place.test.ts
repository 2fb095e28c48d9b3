/**
 * A cluster worker applies a delta to its snapshot in place and hands its Worker what changed, read off the delta
 * (src/process/worker-process.ts `StateReceiver.delta`, src/provider/delta.ts `applyDeltaInPlace`): new lists of
 * every service and route per delta were 240 KB at 10,000 services that lived until the next delta, which over a
 * long burst grew the worker's young generation.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { packWhole } from '../../src/process/ipc.js'
import { diffSnapshot, type Changed, type SnapshotDelta } from '../../src/provider/delta.js'
import type { ServiceSpec, Snapshot } from '../../src/model/snapshot.js'
import { stubReceiver, stubState } from '../helpers/packed-state.js'

test('a delta changes the worker’s snapshot lists in place, and the Worker gets what changed', async () => {
  const applied: { snapshot: Snapshot; changed: Changed | undefined }[] = []
  const { rx, sent } = stubReceiver((snapshot, _servers, changed) => applied.push({ snapshot, changed }))
  const whole = stubState([{ name: 'a' }, { name: 'c' }])
  await rx.packed(packWhole(whole))
  const b = { name: 'b', servers: [] } as unknown as ServiceSpec
  const [a, c] = whole.snapshot.services as [ServiceSpec, ServiceSpec]
  const next: Snapshot = { ...whole.snapshot, services: [a, b] }
  const delta = diffSnapshot(whole.snapshot, next) as SnapshotDelta
  await rx.delta({ type: 'lb:delta', version: 3, base: 2, delta, servers: { seq: 0, servers: [] } })

  const [first, second] = applied
  assert.ok(first !== undefined && second !== undefined)
  assert.equal(second.snapshot.services, first.snapshot.services, 'the same list, changed in place')
  assert.deepEqual(
    second.snapshot.services.map((s) => s.name),
    ['a', 'b'],
  )
  assert.deepEqual(
    second.changed?.removedServices.map((s) => s.name),
    [c.name],
  )
  assert.deepEqual(second.changed?.addedServices, [b])
  assert.deepEqual(
    sent.map((m) => (m.type === 'lb:ack' ? m.version : m.type)),
    [2, 3],
  )
})
