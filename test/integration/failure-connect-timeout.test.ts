/**
 * A server that never completes the TCP handshake: each attempt gives up after `timeouts.connect`, and after the
 * retries the client gets 503 with termination `sC` (haproxy: no server reachable), not a 504.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { blackholePort } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('connect timeout on every attempt → 503 sC after (retries + 1) × timeouts.connect', async () => {
  const hole = await blackholePort()
  const lb = await startLb((c) => {
    c.services = [
      service('svc', [hole.port], {
        retries: 2,
        timeouts: { connect: 200, server: 5_000, body: 5_000, keepAlive: 4_000 },
      }),
    ]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const r = await get(lb.url, '/')
    assert.equal(r.status, 503, r.body)
    assert.match(r.body, /svc\/s0 timed out \(connect\)/)
    const line = lb.access.at(-1)
    assert.equal(line?.ts, 'sC')
    assert.equal(line?.retries, 2)
    const ta = Number(line?.Ta)
    assert.ok(ta >= 600, `answered after ${ta} ms, before three connect timeouts`)
    assert.ok(ta < 1_500, `answered after ${ta} ms`)
  } finally {
    await lb.close()
    await hole.close()
  }
})
