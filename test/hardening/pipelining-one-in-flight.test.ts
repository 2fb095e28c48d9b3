/**
 * Pipelined requests on one client connection reach the server one at a time: the next is forwarded only after
 * the previous response was written, and the responses come back in request order.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { rawExchange } from './raw.js'

test('50 pipelined GETs: at most one in flight upstream, answers in order', async () => {
  let inFlight = 0
  let most = 0
  const up = await startUpstream('u', (req, res) => {
    inFlight++
    most = Math.max(most, inFlight)
    req.resume()
    // Answer a little later, so that concurrent requests would overlap here.
    setTimeout(() => {
      inFlight--
      res.end(req.url)
    }, 10)
  })
  const lb = await startLb((c) => {
    c.services = [service('svc', [up.port], { maxConnections: 64 })]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    let payload = ''
    for (let i = 0; i < 50; i++) payload += `GET /r${i} HTTP/1.1\r\nHost: a.test\r\n\r\n`
    const r = await rawExchange(lb.port, payload, 2_000)
    assert.equal(r.statuses.length, 50, r.data.slice(0, 500))
    const bodies = [...r.data.matchAll(/\r\n\r\n(\/r\d+)/g)].map((m) => m[1])
    assert.deepEqual(
      bodies,
      Array.from({ length: 50 }, (_, i) => `/r${i}`),
    )
    assert.equal(most, 1, `${most} requests of one client connection were at the server at once`)
  } finally {
    await lb.close()
    await up.close()
  }
})
