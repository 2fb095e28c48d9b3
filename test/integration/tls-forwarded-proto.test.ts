/** Requests through an HTTPS listener reach the upstream as https: X-Forwarded-Proto, Forwarded, the port. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, httpsGet, makeCert, tlsConfig, useTls } from '../helpers/certs.js'

test('X-Forwarded-Proto https and Forwarded proto=https from a TLS listener', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const spoofed = { 'x-forwarded-proto': 'http', forwarded: 'proto=http' }
    const r = await httpsGet(lb.port, '/', { host: 'site.test', headers: spoofed })
    assert.equal(r.status, 200)
    assert.equal(r.body, 'u')
    const h = up.requests[0]?.headers
    assert.equal(h?.['x-forwarded-proto'], 'https')
    assert.equal(h?.['x-forwarded-port'], '443', 'no port in Host: the https default')
    assert.equal(h?.forwarded, 'for=127.0.0.1; proto=https; httpproto=http/1.1')
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
})

test('a route for host:443 matches on the TLS listener', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const up = await startUpstream('tls-site')
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    c.services = [service('svc', [up.port])]
    c.routes = [route('site.test:443', '/', 'svc')]
  })
  try {
    const r = await httpsGet(lb.port, '/', { host: 'site.test' })
    assert.equal(r.status, 200)
    assert.equal(r.body, 'tls-site')
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
})
