/**
 * `proto: https` services: lb speaks TLS to the server (SNI from the server's name, certificate verified unless
 * `tls_skip_verify`), through the same pooled, kept-alive connections as plain HTTP.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:https'
import { once } from 'node:events'
import type { AddressInfo, Socket } from 'node:net'
import { cert, key } from '../helpers/tls.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('https upstream: served with tls_skip_verify (connection reused), refused when the certificate is not trusted', async () => {
  const sockets = new Set<Socket>()
  const server = createServer({ cert, key }, (req, res) => {
    req.resume()
    res.end(`tls ${req.url}`)
  })
  server.on('secureConnection', (s: Socket) => sockets.add(s))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  const lb = await startLb((c) => {
    c.services = [
      service('skip', [port], { proto: 'https', tlsSkipVerify: true }),
      service('strict', [port], { proto: 'https', tlsSkipVerify: false, retries: 0 }),
    ]
    c.routes = [route('skip.test', '/', 'skip'), route('strict.test', '/', 'strict')]
  })
  try {
    for (let i = 0; i < 3; i++) {
      const r = await get(lb.url, `/x${i}`, { host: 'skip.test' })
      assert.equal(r.status, 200)
      assert.equal(r.body, `tls /x${i}`)
    }
    assert.equal(sockets.size, 1, 'one TLS connection carried the three requests')
    const strict = await get(lb.url, '/', { host: 'strict.test' })
    assert.equal(strict.status, 503)
    assert.equal(lb.access.at(-1)?.ts, 'SC')
  } finally {
    await lb.close()
    server.closeAllConnections()
    server.close()
  }
})
