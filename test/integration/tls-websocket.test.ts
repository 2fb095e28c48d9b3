/** An Upgrade through an HTTPS listener: after the server's 101 the TLS client and the plain server exchange bytes. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { connect } from 'node:tls'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, makeCert, tlsConfig, useTls } from '../helpers/certs.js'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

test('Upgrade over TLS: 101, then bytes both ways through the tunnel', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  // A plain server that accepts the upgrade and echoes every byte after it.
  const upstream = createServer((_req, res) => res.end('no upgrade'))
  upstream.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const accept = createHash('sha1')
      .update(String(req.headers['sec-websocket-key']) + GUID)
      .digest('base64')
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    )
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const upPort = (upstream.address() as AddressInfo).port
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    c.services = [service('svc', [upPort])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const s = connect({
      host: '127.0.0.1',
      port: lb.port,
      servername: 'site.test',
      rejectUnauthorized: false,
    })
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', resolve)
      s.once('error', reject)
    })
    const key = randomBytes(16).toString('base64')
    s.write(
      'GET /chat HTTP/1.1\r\nHost: site.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
    )
    let text = ''
    const until = (pred: () => boolean): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (pred()) {
            s.off('data', onData)
            resolve()
          }
        }
        const onData = (b: Buffer): void => {
          text += b.toString('latin1')
          check()
        }
        s.on('data', onData)
        s.once('error', reject)
        check()
      })
    await until(() => text.includes('\r\n\r\n'))
    assert.match(text, /^HTTP\/1\.1 101 /)
    text = text.slice(text.indexOf('\r\n\r\n') + 4)
    s.write('ping-1')
    await until(() => text.includes('ping-1'))
    s.write('x'.repeat(200_000))
    await until(() => text.length >= 'ping-1'.length + 200_000)
    assert.equal(text, 'ping-1' + 'x'.repeat(200_000))
    s.destroy()
  } finally {
    await lb.close()
    upstream.closeAllConnections()
    await new Promise<void>((resolve) => upstream.close(() => resolve()))
    d.remove()
  }
})
