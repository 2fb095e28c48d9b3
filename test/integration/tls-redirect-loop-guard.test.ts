/**
 * fabio's redirect-loop guard on lb's own TLS listener: a redirect to https with the request's host and path is
 * skipped for a request that came over TLS (the next route serves it), and still answered over plain HTTP.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb, service } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { startUpstream } from '../helpers/upstream.js'
import { certDir, httpsGet, makeCert, tlsConfig } from '../helpers/certs.js'

test('https redirect to the same URL: skipped over TLS, answered over plain HTTP', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['shop.test'] })
  const up = await startUpstream('app')
  const lb = await startLb((c) => {
    c.listeners.push({ name: 'tls', host: '127.0.0.1', port: 0, mode: 'http', tls: tlsConfig([cert]) })
    c.services = [service('app', [up.port])]
    c.routes = [
      { host: '', path: '/', service: 'app', strip: '', prepend: '', hostHeader: '', redirect: null },
    ]
    c.routeCommands = 'route add redirect shop.test/ https://shop.test$path opts "redirect=301"'
  })
  try {
    const tlsPort = lb.worker.ports().get('tls') ?? 0
    const plain = await get(lb.url, '/a', { host: 'shop.test' })
    assert.equal(plain.status, 301)
    assert.equal(plain.headers.location, 'https://shop.test/a')
    const https = await httpsGet(tlsPort, '/a', { host: 'shop.test' })
    assert.equal(https.status, 200)
    assert.equal(https.body, 'app')
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
})
