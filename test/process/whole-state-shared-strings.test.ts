/**
 * A whole state as a worker unpacks it (src/process/ipc.ts `unpackWhole`) holds one copy of the strings its
 * snapshot repeats: V8's deserializer makes a new string for every occurrence of one (a server's state `up`, a
 * service's balance and protocol, the service each route names), which at 10,000 Consul services was 1.8 MB of a
 * worker's heap. Read as the heap the unpacked state keeps alive, against the same bytes deserialized as they are.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { deserialize } from 'node:v8'
import { packWhole, unpackWhole } from '../../src/process/ipc.js'
import { nodeInternals, type GcFunction } from '../../src/net/node-internals.js'
import { collectNativeHeld } from '../../src/process/memory.js'
import { configToSnapshot } from '../../src/provider/file.js'
import { baseConfig, route, service } from '../helpers/lb.js'
import type { WholeState } from '../../src/process/ipc.js'

const SERVICES = 2_000

/** The packed bytes of a whole state of SERVICES services (the state itself is garbage once this returns). */
function packed(): Uint8Array {
  const config = baseConfig()
  config.services = Array.from({ length: SERVICES }, (_, i) =>
    service(`service-${i}@consul`, [8000, 8001, 8002]),
  )
  config.routes = config.services.flatMap((s, i) => [
    route(`h${i}.example.com`, '/', s.name),
    route('', `/p${i}`, s.name),
  ])
  return packWhole({
    type: 'lb:apply',
    version: 1,
    config,
    snapshot: configToSnapshot(config),
    servers: { seq: 0, servers: [] },
  })
}

/** What `retained` measures, held here while it measures. */
const held: unknown[] = []

/**
 * Bytes of heap that what `make` returns keeps alive. Read after the deserializer's native half has let go of what
 * it read (memory.ts `collectNativeHeld`: a GC, a turn of the event loop, a GC), as a worker reads its state: read
 * right away, the deserializer's map of every object it made still held the whole graph.
 */
async function retained(make: () => unknown): Promise<number> {
  const gc = nodeInternals.gc() as GcFunction
  await collectNativeHeld(gc)
  const before = process.memoryUsage().heapUsed
  held.push(make())
  await collectNativeHeld(gc)
  const after = process.memoryUsage().heapUsed
  held.length = 0
  return after - before
}

test('an unpacked whole state keeps one copy of the strings it repeats', async () => {
  assert.ok(nodeInternals.gc() !== null, 'this Node offers V8’s gc (src/net/node-internals.ts)')
  const bytes = packed()
  const plain = (): unknown => (deserialize(bytes) as WholeState).snapshot
  const shared = (): unknown => unpackWhole(bytes).snapshot
  // The most of 3 readings each: garbage freed while one reads makes it low.
  let a = 0
  let b = 0
  for (let round = 0; round < 3; round++) {
    a = Math.max(a, await retained(plain))
    b = Math.max(b, await retained(shared))
  }
  assert.ok(b < a * 0.95, `unpacked ${b} bytes, deserialized as they are ${a}`)
})
