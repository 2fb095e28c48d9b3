/**
 * A worker applies a large packed whole state from a small heap (src/process/worker-process.ts
 * `StateReceiver.packed`, memory.ts `collectNativeHeld`): unpacking grows V8's young generation to its maximum,
 * and the last-resort GC before the apply gives it back, so the table is not built on top of it (a cluster
 * worker's peak at 10,000 Consul services fell by 4–6 MB).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FREE_PACKED_FROM } from '../../src/process/worker-process.js'
import { packWhole } from '../../src/process/ipc.js'
import { YOUNG_SMALL, newSpaceCommitted } from '../../src/process/memory.js'
import { nodeInternals } from '../../src/net/node-internals.js'
import { stubReceiver, stubState } from '../helpers/packed-state.js'

test('a large packed whole state is applied once the young generation unpacking grew is given back', async () => {
  assert.ok(nodeInternals.gc() !== null, 'this Node offers V8’s gc (src/net/node-internals.ts)')
  // Many small objects: unpacking them is what fills the young generation.
  const n = Math.ceil(FREE_PACKED_FROM / 25)
  const bytes = packWhole(stubState(Array.from({ length: n }, (_, i) => ({ name: `s${i}`, servers: [] }))))
  assert.ok(bytes.byteLength >= FREE_PACKED_FROM, `the packed state is ${bytes.byteLength} bytes`)
  let young = -1
  const { rx, sent } = stubReceiver(() => (young = newSpaceCommitted()))
  try {
    await rx.packed(bytes)
    assert.deepEqual(sent, [{ type: 'lb:ack', version: 2, error: null }])
    assert.ok(young <= YOUNG_SMALL, `young generation at the apply: ${young} bytes`)
  } finally {
    rx.close()
  }
})
