/** X-Forwarded-* / Forwarded / X-Real-IP: client-supplied values count only from trusted proxies. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { request } from 'node:http'

const spoofed = {
  'x-forwarded-for': '203.0.113.9',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'evil.test',
  'x-real-ip': '203.0.113.9',
  forwarded: 'for=203.0.113.9;proto=https',
}

test('untrusted peer: spoofed forwarding headers are replaced', async () => {
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    c.http.trustedProxies = ['10.0.0.0/8']
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    await get(lb.url, '/', { host: 'site.test', headers: spoofed })
    const h = up.requests[0]?.headers
    assert.equal(h?.['x-forwarded-for'], '127.0.0.1')
    assert.equal(h?.['x-real-ip'], '127.0.0.1')
    assert.equal(h?.['x-forwarded-proto'], 'http')
    assert.equal(h?.['x-forwarded-host'], 'site.test')
    assert.equal(h?.['x-forwarded-port'], '80', 'from the Host header (none: 80), not the listener port')
    assert.equal(h?.forwarded, 'for=127.0.0.1; proto=http; httpproto=http/1.1')
  } finally {
    await lb.close()
    await up.close()
  }
})

test('trusted peer: the chain is extended and the real client is derived', async () => {
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    c.http.trustedProxies = ['127.0.0.1/32']
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    await get(lb.url, '/', { host: 'site.test', headers: spoofed })
    const h = up.requests[0]?.headers
    assert.equal(h?.['x-forwarded-for'], '203.0.113.9, 127.0.0.1')
    assert.equal(h?.['x-real-ip'], '203.0.113.9')
    assert.equal(h?.['x-forwarded-proto'], 'https')
    assert.equal(h?.['x-forwarded-host'], 'evil.test')
    assert.equal(h?.forwarded, 'for=203.0.113.9;proto=https, for=127.0.0.1; proto=http; httpproto=http/1.1')
    assert.equal(lb.access.at(-1)?.ci, '203.0.113.9')
  } finally {
    await lb.close()
    await up.close()
  }
})

test('hop-by-hop headers and Connection-named headers do not reach the server', async () => {
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    // node:http sends Connection verbatim (undici's client would rewrite it).
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: lb.port,
          path: '/',
          headers: {
            connection: 'x-secret, x-forwarded-for',
            'x-secret': '1',
            'proxy-authorization': 'Basic x',
            te: 'gzip',
          },
        },
        (res) => res.resume().on('end', resolve),
      )
      req.on('error', reject)
      req.end()
    })
    const h = up.requests[0]?.headers
    assert.equal(h?.['x-secret'], undefined)
    assert.equal(h?.['proxy-authorization'], undefined)
    assert.equal(h?.te, undefined)
    assert.equal(h?.['x-forwarded-for'], '127.0.0.1', 'Connection cannot strip what lb sets')
  } finally {
    await lb.close()
    await up.close()
  }
})
