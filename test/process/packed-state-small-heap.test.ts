/**
 * A worker applies a large packed whole state from a small heap (src/process/worker-process.ts
 * `StateReceiver.packed`, memory.ts `collectNativeHeld`): unpacking grows V8's young generation to its maximum,
 * and the last-resort GC before the apply gives it back, so the table is not built on top of it (a cluster
 * worker's peak at 10,000 Consul services fell by 4–6 MB).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pino } from 'pino'
import { FREE_PACKED_FROM, StateReceiver } from '../../src/process/worker-process.js'
import { packWhole, type FromWorker, type WholeState } from '../../src/process/ipc.js'
import type { Worker } from '../../src/process/worker.js'
import type { ServiceSpec } from '../../src/model/snapshot.js'
import { YOUNG_SMALL, newSpaceCommitted } from '../../src/process/memory.js'
import { nodeInternals } from '../../src/net/node-internals.js'
import { baseConfig } from '../helpers/lb.js'

/** A whole state of many small objects whose packed bytes are over FREE_PACKED_FROM. */
function largeState(): WholeState {
  const services = Array.from({ length: Math.ceil(FREE_PACKED_FROM / 25) }, (_, i) => ({
    name: `s${i}`,
    servers: [],
  })) as unknown as ServiceSpec[]
  return {
    type: 'lb:apply',
    version: 2,
    config: baseConfig(),
    snapshot: { services, routes: [], tcpRoutes: [] },
    servers: { seq: 0, servers: [] },
  }
}

test('a large packed whole state is applied once the young generation unpacking grew is given back', async () => {
  assert.ok(nodeInternals.gc() !== null, 'this Node offers V8’s gc (src/net/node-internals.ts)')
  const bytes = packWhole(largeState())
  assert.ok(bytes.byteLength >= FREE_PACKED_FROM, `the packed state is ${bytes.byteLength} bytes`)
  const sent: FromWorker[] = []
  let young = -1
  const silent = pino({ level: 'silent' })
  const stub = {
    apply: (): Promise<void> => {
      young = newSpaceCommitted()
      return Promise.resolve()
    },
    syncListeners: (): Promise<void> => Promise.resolve(),
  } as unknown as Worker
  const rx = new StateReceiver(
    (m) => sent.push(m),
    () => ({ worker: stub, log: silent }),
  )
  try {
    await rx.packed(bytes)
    assert.deepEqual(sent, [{ type: 'lb:ack', version: 2, error: null }])
    assert.ok(young <= YOUNG_SMALL, `young generation at the apply: ${young} bytes`)
  } finally {
    rx.close()
  }
})
