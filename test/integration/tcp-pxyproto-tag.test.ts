/**
 * fabio `pxyproto=true` (issue 20 feature 7): a TCP route with that option sends a PROXY protocol v1 header
 * naming the client before the client's bytes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { startLb, tcpListener, portOf, until } from '../helpers/lb.js'
import { startTcp } from '../helpers/tls.js'

test('pxyproto=true: PROXY v1 header on the server connection', async () => {
  let received = Buffer.alloc(0)
  const backend = await startTcp((s: Socket) => {
    s.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d])
      s.write(d)
    })
  })
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('db', '')]
    c.services = []
    c.routes = []
    c.routeCommands = `route add db x.test/ tcp://127.0.0.1:${backend.port} opts "pxyproto=true"`
  })
  try {
    const svc = lb.worker.state.services.get('db')
    assert.equal(svc?.spec.sendProxy, 'v1')
    // A ClientHello naming x.test, so the SNI route matches.
    const port = portOf(lb, 'db')
    const t = tlsConnect({ host: '127.0.0.1', port, servername: 'x.test', rejectUnauthorized: false })
    t.on('error', () => {})
    await until(() => received.length > 0, 'bytes at the server')
    t.destroy()
    const text = received.toString('latin1')
    assert.match(text, /^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 \d+ \d+\r\n/)
    const header = text.indexOf('\r\n') + 2
    assert.equal(received[header], 0x16, 'then the ClientHello (a TLS handshake record)')
  } finally {
    await lb.close()
    await backend.close()
  }
})
