/** A dead server costs no client errors: connect failures are retried on another server. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream, deadPort } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('requests succeed while one of two servers refuses connections', async () => {
  const live = await startUpstream('live')
  const dead = await deadPort()
  const lb = await startLb((c) => {
    c.services = [service('svc', [dead, live.port], { retries: 1 })]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const statuses: number[] = []
    for (let i = 0; i < 40; i++) {
      const r =
        i % 2 === 0 ? await get(lb.url, '/') : await get(lb.url, '/', { method: 'POST', body: 'payload' })
      statuses.push(r.status)
    }
    assert.deepEqual(new Set(statuses), new Set([200]))
    assert.equal(live.requests.length, 40)
    // POST bodies were replayed intact after the failed connect (nothing had been sent).
    const posts = live.requests.filter((r) => r.method === 'POST')
    assert.equal(posts.length, 20)
    const retried = lb.access.filter((l) => l.retries === 1)
    assert.ok(retried.length >= 10, `expected retries in the access log, got ${retried.length}`)
  } finally {
    await lb.close()
    await live.close()
  }
})

test('when every attempt fails the client gets 503 naming the server (haproxy: no server reachable)', async () => {
  const d1 = await deadPort()
  const d2 = await deadPort()
  const lb2 = await startLb((c) => {
    c.services = [service('svc', [d1, d2], { retries: 3 })]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const r = await get(lb2.url, '/')
    assert.equal(r.status, 503)
    assert.match(r.body, /cannot connect to svc\/s[01]/)
    const line = lb2.access.at(-1)
    assert.equal(line?.ts, 'SC')
    assert.equal(line?.retries, 3)
  } finally {
    await lb2.close()
  }
})
