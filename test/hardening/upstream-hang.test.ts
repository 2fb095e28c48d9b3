/**
 * An upstream that accepts and reads the request but never answers → 504 after the service's `server` timeout
 * (headers phase, `sH`, logged); the stuck connection is dropped, the pool recovers; no leak.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { get } from '../helpers/client.js'
import { assertNoLeak, startFaultRig } from './upstream-raw.js'

test('upstream hangs before the response head → 504 with a logged reason; pool recovers; no leak', async () => {
  const hang = (): void => {}
  const { up, lb, agent, close } = await startFaultRig(hang, {
    retries: 2,
    timeouts: { connect: 1_000, server: 150, body: 5_000, keepAlive: 4_000 },
  })
  try {
    const r = await get(lb.url, '/x', { agent })
    assert.equal(r.status, 504, r.body)
    const line = lb.access.at(-1)
    assert.equal(line?.ts, 'sH')
    assert.match(String(line?.reason), /svc\/s0/)
    assert.equal(up.requests.length, 1, 'a request that timed out waiting for headers is not replayed')

    up.fault = null
    assert.equal((await get(lb.url, '/x', { agent })).body, 'ok')

    up.fault = hang
    await assertNoLeak(async () => {
      assert.equal((await get(lb.url, '/x', { agent })).status, 504)
    }, 20)
  } finally {
    await close()
  }
})
