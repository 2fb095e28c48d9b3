/** A response that is not valid HTTP/1.1: 502 with termination `PH` (lb refused the server's answer). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startFaultRig } from '../hardening/upstream-raw.js'
import { get } from '../helpers/client.js'

test('invalid response → 502 PH', async () => {
  const rig = await startFaultRig((socket) => socket.write('HTTP/1.1 2OO OK\r\n\r\n'), { retries: 2 })
  try {
    const r = await get(rig.lb.url, '/x', { agent: rig.agent })
    assert.equal(r.status, 502, r.body)
    const line = rig.lb.access.at(-1)
    assert.equal(line?.ts, 'PH')
    assert.match(String(line?.reason), /invalid response from svc\/s0/)
    assert.equal(rig.up.requests.length, 1, 'not retried')
  } finally {
    await rig.close()
  }
})
