/**
 * ByteSink.get (sink.ts) keeps its connection for the next request, and when the server closed that kept
 * connection while it was idle, sends the request again on a new one instead of failing it.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { test } from 'node:test'
import { ByteSink } from '../../../src/provider/consul/sink.js'

test('a sink reuses its connection, and replaces one the server closed while idle', async () => {
  const sockets: Socket[] = []
  const targets: string[] = []
  const server = createServer((socket) => {
    sockets.push(socket)
    let head = ''
    socket.on('data', (d) => {
      head += d.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      targets.push(head.slice(0, head.indexOf('\r\n')))
      head = head.slice(end + 4)
      socket.write(`HTTP/1.1 200 OK\r\nX-Consul-Index: ${targets.length}\r\nContent-Length: 2\r\n\r\n[]`)
    })
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`
  const sink = new ByteSink()
  const signal = AbortSignal.timeout(10_000)
  try {
    const a = await sink.get(address, '/a', 'X-Consul-Token: t\r\n', 5_000, signal)
    const b = await sink.get(address, '/b', '', 5_000, signal)
    assert.deepEqual([a.index, b.index, a.bytes.toString()], ['1', '2', '[]'])
    assert.equal(sockets.length, 1, 'one connection for both')
    // The server drops the idle connection; the next request goes out on a new one.
    const closed = once(sockets[0] as Socket, 'close')
    ;(sockets[0] as Socket).destroy()
    await closed
    const c = await sink.get(address, '/c', '', 5_000, signal)
    assert.equal(c.index, '3')
    assert.equal(sockets.length, 2)
    assert.deepEqual(targets, ['GET /a HTTP/1.1', 'GET /b HTTP/1.1', 'GET /c HTTP/1.1'])
  } finally {
    sink.close()
    for (const s of sockets) s.destroy()
    server.close()
  }
})
