/**
 * fabio's watched `registry.consul.noroutehtmlpath` (issue 20 feature 6): the HTML page in Consul KV
 * `fabio/noroute.html` answers requests no route matches, and follows changes of the key.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { startConsulLb, waitFor } from '../helpers/consul-lb.js'
import { get } from '../helpers/client.js'

test('no-route page from Consul KV', async () => {
  const consul = await ConsulTestServer.start()
  consul.putKv('fabio/noroute.html', '<h1>Nothing here</h1>')
  const t = await startConsulLb(consul.address)
  try {
    await waitFor(() => t.lb.worker.ctx.noRoute.html !== '')
    const r = await get(t.lb.url, '/nowhere')
    assert.equal(r.status, 404)
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(r.body, '<h1>Nothing here</h1>')
    consul.putKv('fabio/noroute.html', '<h1>Moved</h1>')
    await waitFor(() => t.lb.worker.ctx.noRoute.html === '<h1>Moved</h1>')
  } finally {
    await t.close()
    await consul.close()
  }
})
