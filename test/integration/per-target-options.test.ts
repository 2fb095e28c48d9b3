/**
 * issue 20 bug 2 (fabio route/table_test.go "1 service, 1 prefix, 2 instances with different options"): two
 * targets of one route with different options each get their own: `strip=/same` on svc-a only, and
 * `host=foo.com` vs `host=bar.com`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { startUpstream } from '../helpers/upstream.js'

test('per-target options: strip and host apply to their own target only', async () => {
  const a = await startUpstream('a')
  const b = await startUpstream('b')
  const lb = await startLb((c) => {
    c.services = []
    c.routes = []
    c.routeCommands = [
      `route add svc-a /same http://127.0.0.1:${a.port}/ opts "strip=/same host=foo.com"`,
      `route add svc-b /same http://127.0.0.1:${b.port}/ opts "host=bar.com"`,
    ].join('\n')
  })
  try {
    for (let i = 0; i < 4; i++)
      assert.equal((await get(lb.url, '/same/x?q=1', { host: 'client.test' })).status, 200)
    assert.ok(a.requests.length > 0 && b.requests.length > 0, 'both targets served')
    for (const r of a.requests) {
      assert.equal(r.url, '/x?q=1')
      assert.equal(r.headers.host, 'foo.com')
      assert.equal(r.headers['x-forwarded-prefix'], '/same')
    }
    for (const r of b.requests) {
      assert.equal(r.url, '/same/x?q=1')
      assert.equal(r.headers.host, 'bar.com')
      assert.equal(r.headers['x-forwarded-prefix'], undefined)
    }
  } finally {
    await lb.close()
    await a.close()
    await b.close()
  }
})
