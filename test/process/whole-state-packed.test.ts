/**
 * A whole state is sent serialized once for the workers it goes to (src/process/ipc.ts `packWhole`, an
 * `lb:apply-packed` message): what a worker unpacks is the whole state itself, and it applies and serves it;
 * bytes holding any other message are refused.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { serialize } from 'node:v8'
import { pino } from 'pino'
import { StateReceiver } from '../../src/process/worker-process.js'
import { packWhole, unpackWhole, type FromWorker, type WholeState } from '../../src/process/ipc.js'
import { Worker } from '../../src/process/worker.js'
import { configToSnapshot } from '../../src/provider/file.js'
import { baseConfig, route, service } from '../helpers/lb.js'
import { startUpstream } from '../helpers/upstream.js'
import { fetchOnce } from '../helpers/daemon.js'

test('a packed whole state unpacks to the same message, which a worker applies and serves', async () => {
  const a = await startUpstream('a')
  const config = baseConfig()
  config.services = [service('sa', [a.port])]
  config.routes = [route('', '/a', 'sa')]
  const msg: WholeState = {
    type: 'lb:apply',
    version: 3,
    config,
    snapshot: configToSnapshot(config),
    servers: { seq: 0, servers: [] },
    tickets: '00'.repeat(48),
  }
  // As the channel delivers it: the message holding the bytes goes through a structured clone too.
  const bytes = structuredClone(packWhole(msg))
  const whole = unpackWhole(bytes)
  assert.deepEqual(whole, msg)
  const sent: FromWorker[] = []
  const silent = pino({ level: 'silent' })
  const rx = new StateReceiver(
    (m) => sent.push(m),
    (c) => ({ worker: new Worker({ config: c, log: silent, accessLog: silent }), log: silent }),
  )
  try {
    await rx.full(whole)
    assert.deepEqual(sent, [{ type: 'lb:ack', version: 3, error: null }])
    const port = [...(rx.worker as Worker).ports().values()][0] as number
    assert.equal((await fetchOnce(port, '/a')).body, 'a')
  } finally {
    await rx.worker?.stop(100)
    rx.close()
    await a.close()
  }
})

test('packed bytes that hold anything but a whole state are refused', () => {
  assert.throws(() => unpackWhole(serialize({ type: 'lb:stop', timeout: 0 })), /does not hold a whole state/)
  assert.throws(() => unpackWhole(serialize('lb:apply')), /does not hold a whole state/)
})
