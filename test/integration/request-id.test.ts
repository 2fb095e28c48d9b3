/** The request-id header: generated when absent, kept when valid, sent upstream and echoed back. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('request ids are generated, propagated and echoed', async () => {
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    c.http.requestIdHeader = 'X-Request-Id'
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const generated = await get(lb.url, '/')
    const id = generated.headers['x-request-id']
    assert.equal(typeof id, 'string')
    assert.equal(up.requests[0]?.headers['x-request-id'], id)
    const second = await get(lb.url, '/')
    assert.notEqual(second.headers['x-request-id'], id)

    const kept = await get(lb.url, '/', { headers: { 'x-request-id': 'abc-123' } })
    assert.equal(kept.headers['x-request-id'], 'abc-123')
    assert.equal(up.requests[2]?.headers['x-request-id'], 'abc-123')
    assert.equal(lb.access.at(-1)?.rid, 'abc-123')

    const notFound = await get(lb.url, '/', { host: 'x', headers: { 'x-request-id': 'n-1' } })
    assert.equal(notFound.headers['x-request-id'], 'n-1')
  } finally {
    await lb.close()
    await up.close()
  }
})
