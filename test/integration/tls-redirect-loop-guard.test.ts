/**
 * Redirects to https that cannot loop on lb's own TLS listener:
 * - fabio's redirect-loop guard: a redirect to https with the request's host and path is skipped for a request
 *   that came over TLS (the next route serves it), and still answered over plain HTTP;
 * - HTTP→HTTPS with a static route (docs/operations.md): a `routes[]` redirect on `host:80` to
 *   `https://$host$path` matches plain-HTTP requests only (`:80` is a plain listener's default port, `:443` a TLS
 *   listener's), so following it lands on the TLS listener's own route.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb, service, route } from '../helpers/lb.js'
import type { MutableConfig } from '../../src/config/types.js'
import { get } from '../helpers/client.js'
import { startUpstream } from '../helpers/upstream.js'
import { certDir, httpsGet, makeCert, tlsConfig } from '../helpers/certs.js'

/** lb with a plain listener and a TLS one (`tls`) for shop.test in front of service `app`; `run` gets both. */
async function withShop(
  edit: (c: MutableConfig) => void,
  run: (plainUrl: string, tlsPort: number, requests: () => number) => Promise<void>,
): Promise<void> {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['shop.test'] })
  const up = await startUpstream('app')
  const lb = await startLb((c) => {
    c.listeners.push({ name: 'tls', host: '127.0.0.1', port: 0, mode: 'http', tls: tlsConfig([cert]) })
    c.services = [service('app', [up.port])]
    edit(c)
  })
  try {
    await run(lb.url, lb.worker.ports().get('tls') ?? 0, () => up.requests.length)
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
}

test('https redirect to the same URL: skipped over TLS, answered over plain HTTP', async () => {
  await withShop(
    (c) => {
      c.routes = [route('', '/', 'app')]
      c.routeCommands = 'route add redirect shop.test/ https://shop.test$path opts "redirect=301"'
    },
    async (plainUrl, tlsPort) => {
      const plain = await get(plainUrl, '/a', { host: 'shop.test' })
      assert.equal(plain.status, 301)
      assert.equal(plain.headers.location, 'https://shop.test/a')
      const https = await httpsGet(tlsPort, '/a', { host: 'shop.test' })
      assert.equal(https.status, 200)
      assert.equal(https.body, 'app')
    },
  )
})

test('a host:80 redirect to https://$host$path: answered on plain HTTP, never on TLS', async () => {
  await withShop(
    (c) => {
      c.routes = [
        route('shop.test:80', '/', '', { redirect: { code: 308, url: 'https://$host$path' } }),
        route('shop.test', '/', 'app'),
      ]
    },
    async (plainUrl, tlsPort, requests) => {
      const plain = await get(plainUrl, '/cart?id=7', { host: 'shop.test' })
      assert.equal(plain.status, 308)
      assert.equal(plain.headers.location, 'https://shop.test/cart?id=7')
      // Following it (to lb's TLS listener): the :80 route does not match there, the site answers.
      const followed = await httpsGet(tlsPort, '/cart?id=7', { host: 'shop.test' })
      assert.equal(followed.status, 200)
      assert.equal(followed.body, 'app')
      assert.equal(requests(), 1)
    },
  )
})
