/**
 * The admin server answers only requests addressed to it by an IP literal, `localhost` or a name listed in
 * `admin.allowed_hosts`: a DNS-rebinding page (any other Host) gets 421 and no data.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startAdmin } from '../helpers/admin.js'
import { route, service } from '../helpers/lb.js'

test('admin Host check: IP literals, localhost and allowed names pass; any other name gets 421', async () => {
  const a = await startAdmin((c) => {
    c.admin.allowedHosts = ['lb1.internal']
    c.services = [service('web', [1])]
    c.routes = [route('', '/', 'web')]
  })
  try {
    const port = new URL(a.url).port
    for (const host of [
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      'localhost',
      `LB1.internal:${port}`,
      '10.0.0.5',
    ]) {
      assert.equal((await a.get('/api/routes', { host })).status, 200, host)
    }
    for (const host of [
      'attacker.example',
      `attacker.example:${port}`,
      'lb1.internal.attacker.example',
      '127.0.0.1.nip.io',
    ]) {
      const r = await a.get('/api/routes', { host })
      assert.equal(r.status, 421, host)
      assert.doesNotMatch(r.body, /web/, 'no route data in the refusal')
    }
  } finally {
    await a.close()
  }
})
