/**
 * issue 20 bug 3 (fabio proxy/http_headers_test.go "set X-Forwarded-Port from Host"): X-Forwarded-Port is the
 * port of the Host the client asked for, not lb's listener port (they differ behind any port mapping).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { startUpstream } from '../helpers/upstream.js'

test('X-Forwarded-Port comes from the Host header', async () => {
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    await get(lb.url, '/', { host: 'site.test:8443' })
    assert.equal(up.requests[0]?.headers['x-forwarded-port'], '8443')
    assert.notEqual(String(lb.port), '8443')
  } finally {
    await lb.close()
    await up.close()
  }
})
