/**
 * An upstream that resets the connection mid-response. Before the response head is complete → 502 (reset logged);
 * after lb relayed the head, the status is already sent, so lb cuts the client connection (the client sees a
 * truncated body, never a complete-looking one) and logs `SD` with the reason. The pool recovers; no leak.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { get } from '../helpers/client.js'
import { assertNoLeak, startFaultRig } from './upstream-raw.js'

function resetAfter(bytes: string): (s: Socket) => void {
  return (s) => {
    s.write(bytes, () => s.resetAndDestroy())
  }
}

test('upstream resets inside the response head → 502 with a logged reason; pool recovers; no leak', async () => {
  const fault = resetAfter('HTTP/1.1 200 OK\r\ncontent-le')
  const { up, lb, agent, close } = await startFaultRig(fault, { retries: 2 })
  try {
    const r = await get(lb.url, '/x', { agent, method: 'POST', body: 'once' })
    assert.equal(r.status, 502, r.body)
    assert.match(String(lb.access.at(-1)?.reason), /svc\/s0/)
    assert.equal(up.requests.length, 1, 'a POST that reached the upstream is not sent again')

    up.fault = null
    assert.equal((await get(lb.url, '/x', { agent })).body, 'ok')

    up.fault = fault
    await assertNoLeak(async () => {
      assert.equal((await get(lb.url, '/x', { agent })).status, 502)
    })
  } finally {
    await close()
  }
})

test('upstream resets inside the body → client connection cut, SD logged; pool recovers; no leak', async () => {
  const fault = resetAfter('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789')
  const { up, lb, agent, close } = await startFaultRig(fault, { retries: 2 })
  const truncated = async (): Promise<void> => {
    await assert.rejects(get(lb.url, '/x', { agent }), 'a cut body must not look complete')
    await settleLog()
  }
  const settleLog = async (): Promise<void> => {
    for (let i = 0; i < 200 && lb.access.length === 0; i++) await new Promise((r) => setImmediate(r))
  }
  try {
    await truncated()
    const line = lb.access.at(-1)
    assert.equal(line?.ts, 'SD')
    assert.equal(line?.status, 200)
    assert.match(String(line?.reason), /ECONNRESET|closed by the server/)
    assert.equal(up.requests.length, 1, 'a response already started is never retried')

    up.fault = null
    assert.equal((await get(lb.url, '/x', { agent })).body, 'ok')

    up.fault = fault
    await assertNoLeak(truncated)
  } finally {
    await close()
  }
})
