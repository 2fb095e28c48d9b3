/**
 * A worker frees a large packed whole state's bytes as it applies the state (src/process/worker-process.ts
 * `StateReceiver.packed`): they were 7 MB at 10,000 Consul services, held through the apply, at the worker's peak.
 * Read as V8's count of ArrayBuffer memory.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FREE_PACKED_FROM, type StateReceiver } from '../../src/process/worker-process.js'
import { packWhole, type WholeState } from '../../src/process/ipc.js'
import { nodeInternals } from '../../src/net/node-internals.js'
import { stubReceiver, stubState } from '../helpers/packed-state.js'
import { until } from '../helpers/lb.js'

/** A whole state whose packed bytes are 1.5 × FREE_PACKED_FROM. */
function largeState(): WholeState {
  const pad = 'x'.repeat(200)
  const n = Math.ceil((1.5 * FREE_PACKED_FROM) / pad.length)
  return stubState(Array.from({ length: n }, (_, i) => ({ name: `s${i}-${pad}` })))
}

/**
 * `state` packed and handed to `rx`, whose bytes they then are alone, as a message's are: from a function that has
 * returned (a test suspended at an `await` may still hold its call's argument). The bytes are a copy, in memory V8
 * counts as it counts the IPC channel's (the serializer's own buffer is not counted).
 */
function handOver(rx: StateReceiver, state: WholeState): Promise<void> {
  return rx.packed(Buffer.from(packWhole(state)))
}

function arrayBuffers(): number {
  return process.memoryUsage().arrayBuffers
}

test('a large packed whole state’s bytes are freed before the state is applied', async () => {
  assert.ok(nodeInternals.gc() !== null, 'this Node offers V8’s gc (src/net/node-internals.ts)')
  const state = largeState()
  const size = packWhole(state).byteLength
  assert.ok(size >= FREE_PACKED_FROM, `the packed state is ${size} bytes`)
  const { rx, sent } = stubReceiver()
  try {
    const before = arrayBuffers()
    await handOver(rx, state)
    assert.deepEqual(sent, [{ type: 'lb:ack', version: 2, error: null }])
    // The receiver's GCs find the bytes dead; V8 frees such memory on a thread of its own, just after. Nothing
    // here allocates enough for V8 to start a full GC of its own, which freeing them would take otherwise.
    await until(() => arrayBuffers() < before + size / 2, 'the packed bytes freed', 2_000).catch(() =>
      assert.fail(`ArrayBuffer memory ${arrayBuffers() - before} bytes over the start, ${size} packed`),
    )
  } finally {
    rx.close()
  }
})
