/**
 * HTTP→HTTPS with a static route (docs/operations.md): a `routes[]` redirect on `host:80` to `https://$host$path`
 * matches plain-HTTP requests only (`:80` is the port a plain listener's requests have by default, `:443` a TLS
 * listener's), so following it lands on the TLS listener's own route and cannot loop.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { startUpstream } from '../helpers/upstream.js'
import { certDir, httpsGet, makeCert, tlsConfig } from '../helpers/certs.js'

test('a host:80 redirect to https://$host$path: answered on plain HTTP, never on TLS', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['shop.test'] })
  const up = await startUpstream('app')
  const lb = await startLb((c) => {
    c.listeners.push({ name: 'tls', host: '127.0.0.1', port: 0, mode: 'http', tls: tlsConfig([cert]) })
    c.services = [service('app', [up.port])]
    c.routes = [
      route('shop.test:80', '/', '', { redirect: { code: 308, url: 'https://$host$path' } }),
      route('shop.test', '/', 'app'),
    ]
  })
  try {
    const tlsPort = lb.worker.ports().get('tls') ?? 0
    const plain = await get(lb.url, '/cart?id=7', { host: 'shop.test' })
    assert.equal(plain.status, 308)
    assert.equal(plain.headers.location, 'https://shop.test/cart?id=7')
    // Following it (to lb's TLS listener): the :80 route does not match there, the site answers.
    const followed = await httpsGet(tlsPort, '/cart?id=7', { host: 'shop.test' })
    assert.equal(followed.status, 200)
    assert.equal(followed.body, 'app')
    assert.equal(up.requests.length, 1)
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
})
