/**
 * A worker process that misses a delta converges through a whole state: a delta whose base is not the version
 * it holds is not applied (it keeps serving the last state it had, acks nothing and asks once with
 * `lb:resync`), later deltas are dropped while it waits, and the whole state it then gets serves every route.
 * (src/process/worker-process.ts `StateReceiver`, fed the messages as the primary packs them or as IPC's
 * structured clone delivers them.)
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pino } from 'pino'
import { StateReceiver } from '../../src/process/worker-process.js'
import { packWhole, type FromWorker, type ToWorker } from '../../src/process/ipc.js'
import { Worker } from '../../src/process/worker.js'
import { configToSnapshot } from '../../src/provider/file.js'
import { diffSnapshot, type SnapshotDelta } from '../../src/provider/delta.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { baseConfig, route, service } from '../helpers/lb.js'
import { startUpstream } from '../helpers/upstream.js'
import { fetchOnce } from '../helpers/daemon.js'

const noServers = { seq: 0, servers: [] }

function deltaOf(a: Snapshot, b: Snapshot): SnapshotDelta {
  const d = diffSnapshot(a, b)
  assert.ok(d !== null)
  return d
}

test('a worker that misses a delta asks for the whole state and converges through it', async () => {
  const ups = await Promise.all(['a', 'b', 'c'].map((n) => startUpstream(n)))
  const config = baseConfig()
  config.services = ups.map((u, i) => service(`s${i}`, [u.port]))
  config.routes = [route('', '/a', 's0')]
  const s1 = configToSnapshot(config)
  // Versions 2 and 3 each add one route to the objects of the version before (as the provider's build keeps them).
  const s2: Snapshot = {
    ...s1,
    routes: [...s1.routes, { ...(s1.routes[0] as Snapshot['routes'][0]), path: '/b', service: 's1' }],
  }
  const s3: Snapshot = {
    ...s2,
    routes: [...s2.routes, { ...(s1.routes[0] as Snapshot['routes'][0]), path: '/c', service: 's2' }],
  }
  const sent: FromWorker[] = []
  const silent = pino({ level: 'silent' })
  const rx = new StateReceiver(
    (m) => sent.push(m),
    (c) => ({ worker: new Worker({ config: c, log: silent, accessLog: silent }), log: silent }),
  )
  const ipc = <T extends ToWorker>(m: T): T => structuredClone(m)
  try {
    await rx.packed(packWhole({ type: 'lb:apply', version: 1, config, snapshot: s1, servers: noServers }))
    const port = [...(rx.worker as Worker).ports().values()][0] as number
    assert.equal((await fetchOnce(port, '/a')).body, 'a')

    // Version 2 never arrives; version 3 is a delta on top of it.
    await rx.delta(ipc({ type: 'lb:delta', version: 3, base: 2, delta: deltaOf(s2, s3), servers: noServers }))
    assert.deepEqual(sent.slice(1), [{ type: 'lb:resync', version: 1 }])
    assert.equal((await fetchOnce(port, '/c')).status, 404, 'no guess: /c is not served from a broken chain')
    assert.equal((await fetchOnce(port, '/a')).body, 'a', 'the last whole state keeps serving')
    // Another delta while waiting: dropped, no second request.
    await rx.delta(ipc({ type: 'lb:delta', version: 4, base: 3, delta: deltaOf(s3, s3), servers: noServers }))
    assert.equal(sent.length, 2)

    await rx.packed(packWhole({ type: 'lb:apply', version: 4, config, snapshot: s3, servers: noServers }))
    assert.deepEqual(sent.at(-1), { type: 'lb:ack', version: 4, error: null })
    assert.equal(rx.version, 4)
    for (const [path, body] of [
      ['/a', 'a'],
      ['/b', 'b'],
      ['/c', 'c'],
    ] as const)
      assert.equal((await fetchOnce(port, path)).body, body, path)
  } finally {
    await rx.worker?.stop(100)
    rx.close()
    await Promise.all(ups.map((u) => u.close()))
  }
})
