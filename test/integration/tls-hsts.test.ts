/** A route's HSTS header is sent on TLS listeners' responses only, replacing the server's own. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { certDir, httpsGet, makeCert, tlsConfig } from '../helpers/certs.js'

test('hsts: on the TLS listener only, for the route that sets it', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const up = await startUpstream('u', (req, res) => {
    req.resume()
    res.writeHead(200, { 'strict-transport-security': 'max-age=1', 'content-length': 1 })
    res.end('u')
  })
  const lb = await startLb((c) => {
    c.listeners.push({ name: 'tls', host: '127.0.0.1', port: 0, mode: 'http', tls: tlsConfig([cert]) })
    c.services = [service('svc', [up.port])]
    c.routes = [
      route('site.test', '/', 'svc', { hsts: 'max-age=600; includeSubDomains' }),
      route('other.test', '/', 'svc'),
    ]
  })
  try {
    const tlsPort = lb.worker.ports().get('tls') ?? 0
    const secure = await httpsGet(tlsPort, '/', { host: 'site.test' })
    assert.equal(secure.status, 200)
    assert.equal(
      secure.headers['strict-transport-security'],
      'max-age=600; includeSubDomains',
      'the route’s, once',
    )
    const plain = await get(lb.url, '/', { host: 'site.test' })
    assert.equal(plain.status, 200)
    assert.equal(
      plain.headers['strict-transport-security'],
      'max-age=1',
      'plain HTTP: the server’s header untouched',
    )
    const otherRoute = await httpsGet(tlsPort, '/', { host: 'other.test' })
    assert.equal(otherRoute.headers['strict-transport-security'], 'max-age=1', 'a route without hsts')
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
})
