/** No server available → 503: every server in maintenance, weight 0, or at maxconn. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route, patchServer } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('503 when no server can take the request', async () => {
  const up = await startUpstream('u')
  const maint = service('maint', [up.port])
  const zero = service('zero', [up.port])
  patchServer(maint, 0, { state: 'maint' })
  patchServer(zero, 0, { weight: 0 })
  const lb = await startLb((c) => {
    c.services = [maint, zero]
    c.routes = [route('maint.test', '/', 'maint'), route('zero.test', '/', 'zero')]
  })
  try {
    for (const host of ['maint.test', 'zero.test']) {
      const r = await get(lb.url, '/', { host })
      assert.equal(r.status, 503, host)
      assert.match(r.body, /no server available for service/)
    }
    assert.equal(up.requests.length, 0)
  } finally {
    await lb.close()
    await up.close()
  }
})

test('503 when the only server is at maxconn', async () => {
  let release: () => void = () => undefined
  const held = new Promise<void>((resolve) => (release = resolve))
  const up = await startUpstream('slow', (req, res) => {
    req.resume()
    void held.then(() => res.end('late'))
  })
  const svc = service('one', [up.port])
  patchServer(svc, 0, { maxconn: 1 })
  const lb = await startLb((c) => {
    c.services = [svc]
    c.routes = [route('', '/', 'one')]
  })
  try {
    const first = get(lb.url, '/')
    // Wait until the first request is in flight upstream (event, not time).
    while (up.requests.length === 0) await new Promise((r) => setImmediate(r))
    const second = await get(lb.url, '/')
    assert.equal(second.status, 503)
    release()
    assert.equal((await first).status, 200)
  } finally {
    release()
    await lb.close()
    await up.close()
  }
})
