/**
 * An upstream that sends a response head far larger than the parser allows (1 MiB of headers) → 502 with a
 * logged reason, without lb buffering it; the pool recovers; no leak.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { get } from '../helpers/client.js'
import { assertNoLeak, startFaultRig } from './upstream-raw.js'

const line = 'x-filler: ' + 'a'.repeat(1_000) + '\r\n'
const huge = 'HTTP/1.1 200 OK\r\n' + line.repeat(1_024) + 'content-length: 0\r\n\r\n'

test('upstream sends a 1 MiB header block → 502 with a logged reason; pool recovers; no leak', async () => {
  const fault = (s: Socket): void => {
    s.end(huge)
  }
  const { up, lb, agent, close } = await startFaultRig(fault, { retries: 0 })
  try {
    const r = await get(lb.url, '/x', { agent })
    assert.equal(r.status, 502, r.body)
    assert.match(
      String(lb.access.at(-1)?.reason),
      /invalid response from svc\/s0: .*(header|HEADERS_OVERFLOW)/i,
    )

    up.fault = null
    assert.equal((await get(lb.url, '/x', { agent })).body, 'ok')

    up.fault = fault
    await assertNoLeak(async () => {
      assert.equal((await get(lb.url, '/x', { agent })).status, 502)
    }, 20)
  } finally {
    await close()
  }
})
