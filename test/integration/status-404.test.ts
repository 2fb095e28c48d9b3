/** No matching route → 404 with a short body naming host and path. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('unknown host and path get 404 naming both', async () => {
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    c.services = [service('svc', [up.port])]
    c.routes = [route('known.test', '/app', 'svc')]
  })
  try {
    const r = await get(lb.url, '/other?x=1', { host: 'unknown.test' })
    assert.equal(r.status, 404)
    assert.equal(r.body, 'no route for host "unknown.test" path "/other?x=1"\n')
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(up.requests.length, 0)
    assert.equal(lb.access.at(-1)?.ts, 'PR')
  } finally {
    await lb.close()
    await up.close()
  }
})
