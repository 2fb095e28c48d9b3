/**
 * A cluster worker gives back the memory a series of deltas grew once they go quiet, from WORKER_GROWTH_THRESHOLD
 * of RSS growth over its last release (src/process/worker-process.ts `StateReceiver`, src/process/memory.ts), not
 * from the primary's GROWTH_THRESHOLD: with 16 MB a worker at 10,000 services stayed up to 123.5 MB between bursts.
 */
import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { packWhole, type ToWorker } from '../../src/process/ipc.js'
import { SETTLE_DELAY, WORKER_GROWTH_THRESHOLD } from '../../src/process/memory.js'
import { diffSnapshot, type SnapshotDelta } from '../../src/provider/delta.js'
import type { ServiceSpec, Snapshot } from '../../src/model/snapshot.js'
import { stubReceiver, stubState } from '../helpers/packed-state.js'

const MB = 1024 * 1024

/** `base` with one more stub service, as the delta a worker gets. */
function added(base: Snapshot, name: string): { next: Snapshot; delta: SnapshotDelta } {
  const next = { ...base, services: [...base.services, { name, servers: [] } as unknown as ServiceSpec] }
  return { next, delta: diffSnapshot(base, next) as SnapshotDelta }
}

test('a worker releases memory after deltas that grew its RSS by WORKER_GROWTH_THRESHOLD', async () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    let fullGcs = 0
    let resident = 100 * MB
    const { rx, sent } = stubReceiver(() => {}, {
      gc: (o) => {
        if (o?.type !== 'minor') fullGcs++
      },
      resident: () => resident,
      young: () => 0,
    })
    const whole = stubState([{ name: 'a' }])
    await rx.packed(packWhole(whole))
    let base = whole.snapshot
    const deltaTo = async (version: number, name: string): Promise<void> => {
      const { next, delta } = added(base, name)
      const msg: ToWorker = {
        type: 'lb:delta',
        version,
        base: version - 1,
        delta,
        servers: { seq: 0, servers: [] },
      }
      await rx.delta(msg)
      base = next
    }
    await deltaTo(3, 'b')
    mock.timers.tick(SETTLE_DELAY)
    assert.equal(fullGcs, 1, 'the first release counts from nothing')
    resident += WORKER_GROWTH_THRESHOLD - 1
    await deltaTo(4, 'c')
    mock.timers.tick(SETTLE_DELAY)
    assert.equal(fullGcs, 1)
    resident += 1
    await deltaTo(5, 'd')
    mock.timers.tick(SETTLE_DELAY)
    assert.equal(fullGcs, 2)
    assert.deepEqual(
      sent.map((m) => (m.type === 'lb:ack' ? m.version : m.type)),
      [2, 3, 4, 5],
    )
  } finally {
    mock.timers.reset()
  }
})
