/**
 * memory.ts: a release may count from a smaller growth than GROWTH_THRESHOLD (`threshold`): a cluster worker's
 * (WORKER_GROWTH_THRESHOLD), whose RSS otherwise stayed up to 16 MB over where its last release left it between
 * bursts of deltas.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GROWTH_THRESHOLD, WORKER_GROWTH_THRESHOLD } from '../../src/process/memory.js'
import { gcsAfterBursts } from '../helpers/memory-release.js'

test('a release with a smaller threshold runs from that growth', () => {
  assert.ok(WORKER_GROWTH_THRESHOLD < GROWTH_THRESHOLD)
  const MB = 1024 * 1024
  assert.deepEqual(
    gcsAfterBursts([100 * MB, 100 * MB + WORKER_GROWTH_THRESHOLD - 1, 100 * MB + WORKER_GROWTH_THRESHOLD], {
      threshold: WORKER_GROWTH_THRESHOLD,
    }),
    [1, 1, 2],
  )
})
