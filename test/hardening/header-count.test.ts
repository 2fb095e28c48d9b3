/**
 * A request with more header lines than lb reads (1,000) is refused with 431 as a whole, so no header beyond the
 * limit (here a second Host) can be silently dropped while the rest is routed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startRawUpstream, rawExchange } from './raw.js'
import { startLb, service, route } from '../helpers/lb.js'

test('2,001 header lines ending in a second Host → 431, nothing upstream', async () => {
  const up = await startRawUpstream()
  const lb = await startLb((c) => {
    c.services = [service('svc', [up.port])]
    c.routes = [route('a.test', '/', 'svc')]
  })
  try {
    const r = await rawExchange(
      lb.port,
      `GET / HTTP/1.1\r\nHost: a.test\r\n${'a:\r\n'.repeat(2_000)}Host: secret.test\r\n\r\n`,
    )
    assert.deepEqual(r.statuses, [431], r.data)
    assert.equal(r.closed, true)
    assert.equal(up.bytes(), '')
  } finally {
    await lb.close()
    await up.close()
  }
})
