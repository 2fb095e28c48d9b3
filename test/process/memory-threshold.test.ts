/**
 * memory.ts: a release may count from a smaller growth than GROWTH_THRESHOLD (`threshold`): a cluster worker's
 * (WORKER_GROWTH_THRESHOLD), whose RSS otherwise stayed up to 16 MB over where its last release left it between
 * bursts of deltas.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { GROWTH_THRESHOLD, WORKER_GROWTH_THRESHOLD, memoryRelease } from '../../src/process/memory.js'

test('a release with a smaller threshold runs from that growth', () => {
  assert.ok(WORKER_GROWTH_THRESHOLD < GROWTH_THRESHOLD)
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    let gcs = 0
    let resident = 100 * 1024 * 1024
    const m = memoryRelease({
      settleDelay: 1_000,
      threshold: WORKER_GROWTH_THRESHOLD,
      gc: () => gcs++,
      resident: () => resident,
    })
    const burst = (): void => {
      m.releaseSoon()
      mock.timers.tick(1_000)
    }
    burst()
    assert.equal(gcs, 1)
    resident += WORKER_GROWTH_THRESHOLD - 1
    burst()
    assert.equal(gcs, 1)
    resident += 1
    burst()
    assert.equal(gcs, 2)
  } finally {
    mock.timers.reset()
  }
})
