/** A server that accepts but never answers → 504 after `timeouts.server`. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('504 when response headers do not arrive in time', async () => {
  const up = await startUpstream('hang', (req) => req.resume())
  const lb = await startLb((c) => {
    c.services = [
      service('svc', [up.port], { timeouts: { connect: 1_000, server: 300, body: 5_000, keepAlive: 4_000 } }),
    ]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const r = await get(lb.url, '/')
    assert.equal(r.status, 504)
    assert.match(r.body, /svc\/s0 timed out \(headers\)/)
    assert.equal(lb.access.at(-1)?.ts, 'sH')
  } finally {
    await lb.close()
    await up.close()
  }
})
