/**
 * A worker process started mid-stream (its first message is a delta, made against a version it never had)
 * gets the current state before it listens: it asks for the whole state and opens no listener until that comes;
 * then it serves the current routes, and the next delta applies in place and is acked.
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
import { diffSnapshot } from '../../src/provider/delta.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { baseConfig, route, service } from '../helpers/lb.js'
import { startUpstream } from '../helpers/upstream.js'
import { fetchOnce } from '../helpers/daemon.js'

const noServers = { seq: 0, servers: [] }

test('a worker started mid-stream gets the current state before it listens', async () => {
  const a = await startUpstream('a')
  const b = await startUpstream('b')
  const config = baseConfig()
  config.services = [service('sa', [a.port]), service('sb', [b.port])]
  config.routes = [route('', '/a', 'sa')]
  const s5 = configToSnapshot(config)
  const s6: Snapshot = {
    ...s5,
    routes: [...s5.routes, { ...(s5.routes[0] as Snapshot['routes'][0]), path: '/b', service: 'sb' }],
  }
  const sent: FromWorker[] = []
  const silent = pino({ level: 'silent' })
  let made = 0
  const rx = new StateReceiver(
    (m) => sent.push(m),
    (c) => {
      made++
      return { worker: new Worker({ config: c, log: silent, accessLog: silent }), log: silent }
    },
  )
  const ipc = <T extends ToWorker>(m: T): T => structuredClone(m)
  try {
    const d = diffSnapshot(s5, s6)
    assert.ok(d !== null)
    await rx.delta(ipc({ type: 'lb:delta', version: 6, base: 5, delta: d, servers: noServers }))
    assert.deepEqual(sent, [{ type: 'lb:resync', version: 0 }])
    assert.equal(made, 0, 'no Worker, so no listener, before a whole state')

    await rx.packed(packWhole({ type: 'lb:apply', version: 6, config, snapshot: s6, servers: noServers }))
    assert.deepEqual(sent.at(-1), { type: 'lb:ack', version: 6, error: null })
    const port = [...(rx.worker as Worker).ports().values()][0] as number
    assert.equal((await fetchOnce(port, '/b')).body, 'b')

    // From now on deltas apply in place: version 7 drops /b.
    const s7: Snapshot = { ...s6, routes: s6.routes.slice(0, 1) }
    const d7 = diffSnapshot(s6, s7)
    assert.ok(d7 !== null)
    await rx.delta(ipc({ type: 'lb:delta', version: 7, base: 6, delta: d7, servers: noServers }))
    assert.deepEqual(sent.at(-1), { type: 'lb:ack', version: 7, error: null })
    assert.equal((await fetchOnce(port, '/b')).status, 404)
    assert.equal((await fetchOnce(port, '/a')).body, 'a')
  } finally {
    await rx.worker?.stop(100)
    rx.close()
    await a.close()
    await b.close()
  }
})
