/** A slow request followed by an Upgrade on the same connection: the answers come back in request order. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { acceptKey } from '../helpers/websocket.js'
import { startLb, service, route, until } from '../helpers/lb.js'

test('GET /slow then an Upgrade: the 200 comes before the 101', async () => {
  const server = createServer((req, res) => {
    req.resume()
    setTimeout(() => res.end('slow'), 400)
  })
  server.on('upgrade', (req, socket: Socket) => {
    const key = String(req.headers['sec-websocket-key'])
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    )
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  const lb = await startLb((c) => {
    c.services = [service('svc', [port])]
    c.routes = [route('', '/', 'svc')]
  })
  const s = connect({ host: '127.0.0.1', port: lb.port })
  try {
    await once(s, 'connect')
    let data = ''
    s.on('data', (c: Buffer) => (data += c.toString('latin1')))
    s.write(
      'GET /slow HTTP/1.1\r\nHost: a.test\r\n\r\n' +
        'GET /ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    )
    await until(() => data.includes('HTTP/1.1 101') && data.includes('slow'), '200 and 101', 5_000)
    const ok = data.indexOf('HTTP/1.1 200')
    assert.ok(ok >= 0, data)
    assert.ok(ok < data.indexOf('HTTP/1.1 101'), data)
  } finally {
    s.destroy()
    await lb.close()
    server.closeAllConnections()
    server.close()
  }
})
