/**
 * A server that closes a *fresh* connection right after reading the request: the request may have been acted on,
 * so it is never replayed, even a GET — 502 `SH`, the server saw it once. (A replay is only for a reused
 * keep-alive connection the server was closing: upstream-keepalive-close.test.ts.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startFaultRig } from '../hardening/upstream-raw.js'
import { get } from '../helpers/client.js'

test('GET reset on a fresh connection → 502 SH, not replayed', async () => {
  const rig = await startFaultRig((socket) => socket.destroy(), { retries: 2 })
  try {
    const r = await get(rig.lb.url, '/x', { agent: rig.agent })
    assert.equal(r.status, 502, r.body)
    assert.equal(rig.lb.access.at(-1)?.ts, 'SH')
    assert.equal(rig.lb.access.at(-1)?.retries, 0)
    assert.equal(rig.up.requests.length, 1, 'the server saw the request once')
  } finally {
    await rig.close()
  }
})
