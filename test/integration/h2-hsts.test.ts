/** HSTS over HTTP/2: the route's value replaces the server's own, as over HTTP/1.1; the request id is echoed. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, makeCert, tlsConfig, useTls } from '../helpers/certs.js'
import { closeSession, h2Connect, h2Request } from '../helpers/h2.js'

test('h2: the route HSTS replaces the server one; set-cookie stays two fields; request id echoed', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const up = await startUpstream('u', (req, res) => {
    req.resume()
    res.setHeader('Strict-Transport-Security', 'max-age=1')
    res.setHeader('Set-Cookie', ['a=1', 'b=2'])
    res.end('ok')
  })
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    c.http.requestIdHeader = 'X-Request-Id'
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc', { hsts: 'max-age=31536000; includeSubDomains' })]
  })
  const session = await h2Connect(lb.port)
  try {
    const r = await h2Request(session, { ':path': '/', 'x-request-id': 'abc-123' })
    assert.equal(r.status, 200)
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains')
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2'])
    assert.equal(r.headers['x-request-id'], 'abc-123')
    assert.equal(up.requests[0]?.headers['x-request-id'], 'abc-123')
  } finally {
    await closeSession(session)
    await lb.close()
    await up.close()
    d.remove()
  }
})
