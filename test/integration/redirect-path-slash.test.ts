/**
 * issue 20 bug 1 (fabio route/target_test.go): `http://bar.com/$path` redirects `/abc` to `http://bar.com/abc`
 * (not `//abc`), and with `strip=/stripme` the request `/stripme` goes to `…/bbb`, not `…/bbb/`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('redirect: $path after a slash, and strip, as fabio builds them', async () => {
  const lb = await startLb((c) => {
    c.services = []
    c.routes = []
    c.routeCommands = [
      'route add svc / http://bar.com/$path opts "redirect=301"',
      'route add svc /stripme https://bar.com/bbb$path opts "redirect=302 strip=/stripme"',
    ].join('\n')
  })
  try {
    const a = await get(lb.url, '/abc?x=1', { host: 'foo.com' })
    assert.equal(a.status, 301)
    assert.equal(a.headers.location, 'http://bar.com/abc?x=1')
    const b = await get(lb.url, '/stripme', { host: 'foo.com' })
    assert.equal(b.status, 302)
    assert.equal(b.headers.location, 'https://bar.com/bbb')
  } finally {
    await lb.close()
  }
})
