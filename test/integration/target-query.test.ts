/**
 * issue 20 bug 7 (fabio proxy/http_proxy.go): a target URL with a query (`http://h:p/base?x=1`) joins it before
 * the client's: `/q?y=2` reaches the server as `/q?x=1&y=2` (the target's path is not used, as in fabio).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { startUpstream } from '../helpers/upstream.js'

test('target query merged with the client query', async () => {
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    c.services = []
    c.routes = []
    c.routeCommands = `route add svc /q http://127.0.0.1:${up.port}/base?x=1`
  })
  try {
    assert.equal((await get(lb.url, '/q?y=2')).status, 200)
    assert.equal((await get(lb.url, '/q')).status, 200)
    assert.deepEqual(
      up.requests.map((r) => r.url),
      ['/q?x=1&y=2', '/q?x=1'],
    )
  } finally {
    await lb.close()
    await up.close()
  }
})
