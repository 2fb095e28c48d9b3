/** IPC message guards and the respawn backoff. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isFromWorker, isToWorker, respawnDelay } from '../src/ipc.js'

test('ipc: guards accept lb messages only', () => {
  assert.equal(isToWorker({ type: 'lb:stop', timeout: 1 }), true)
  assert.equal(isToWorker({ type: 'lb:hello' }), false)
  assert.equal(isFromWorker({ type: 'lb:hello' }), true)
  assert.equal(isFromWorker({ type: 'lb:ack', version: 1, error: null }), true)
  for (const other of [null, 1, 'lb:hello', {}, { type: 3 }, { cmd: 'NODE_CLUSTER' }])
    assert.equal(isToWorker(other) || isFromWorker(other), false, JSON.stringify(other))
})

test('ipc: respawnDelay is 0 for a first crash, then doubles from 100 ms up to the cap', () => {
  const cases: [number, number][] = [
    [0, 0],
    [1, 0],
    [2, 100],
    [3, 200],
    [4, 400],
    [8, 6_400],
    [9, 10_000],
    [50, 10_000],
  ]
  for (const [crashes, want] of cases) assert.equal(respawnDelay(crashes), want, `${crashes} crashes`)
  assert.equal(respawnDelay(5, 300), 300)
})
