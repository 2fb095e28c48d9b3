/**
 * fabio `proxy.noroutestatus` + `noroute.html` (issue 20 feature 6): with `http.no_route`, a request no route
 * matches gets the configured status and HTML page.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('no route: configured status and HTML page', async () => {
  const lb = await startLb((c) => {
    c.services = []
    c.routes = []
    c.http.noRoute = { status: 503, page: '<html><body>Nothing here</body></html>' }
  })
  try {
    const r = await get(lb.url, '/nowhere', { host: 'x.test' })
    assert.equal(r.status, 503)
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(r.body, '<html><body>Nothing here</body></html>')
    lb.worker.setNoRoutePage('<p>from consul</p>')
    assert.equal((await get(lb.url, '/nowhere')).body, '<p>from consul</p>')
    assert.equal(lb.access.at(-1)?.ts, 'PR')
  } finally {
    await lb.close()
  }
})
