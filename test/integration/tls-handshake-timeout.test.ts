/**
 * A connection to an HTTPS listener that never completes its ClientHello (silent, or half a hello) is closed
 * after `http_request`, as a plain connection that never sends a complete request head; plain HTTP bytes sent to
 * it end the connection at once.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, makeCert, tlsConfig, useTls } from '../helpers/certs.js'

/**
 * Connect, send `bytes`, and resolve with the ms until lb closed the connection. The client gives up after 10 s
 * (so a broken lb fails the test instead of hanging it) and then throws.
 */
async function closedAfter(port: number, bytes: Buffer): Promise<number> {
  const s: Socket = connect({ host: '127.0.0.1', port })
  s.on('error', () => {})
  s.resume()
  let gaveUp = false
  s.setTimeout(10_000, () => {
    gaveUp = true
    s.destroy()
  })
  await once(s, 'connect')
  const start = Date.now()
  if (bytes.length > 0) s.write(bytes)
  await once(s, 'close')
  if (gaveUp) throw new Error('lb did not close the connection')
  return Date.now() - start
}

test('a silent or half ClientHello is closed at http_request; plain HTTP is refused', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    c.http.timeouts.httpRequest = 300
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const silent = await closedAfter(lb.port, Buffer.alloc(0))
    assert.ok(silent >= 250, `closed after ${silent} ms, before http_request`)
    // A TLS record header announcing 512 bytes of handshake, and only 10 of them.
    const half = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), Buffer.alloc(10, 1)])
    const partial = await closedAfter(lb.port, half)
    assert.ok(partial >= 250, `closed after ${partial} ms, before http_request`)
    // Plain HTTP on the TLS port: not a handshake, so the handshake fails and the connection ends.
    await closedAfter(lb.port, Buffer.from('GET / HTTP/1.1\r\nHost: site.test\r\n\r\n'))
    assert.equal(up.requests.length, 0)
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
})
