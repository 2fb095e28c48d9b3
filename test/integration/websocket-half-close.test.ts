/** A WebSocket client that goes away while the server keeps its side open: lb closes the tunnel after FIN_TIMEOUT. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { startEchoServer, openWebSocket } from '../helpers/websocket.js'
import { startLb, service, route } from '../helpers/lb.js'
import { FIN_TIMEOUT } from '../../src/proxy/tunnel.js'

test('a half-closed tunnel is closed after FIN_TIMEOUT, upstream included', async () => {
  const echo = await startEchoServer()
  const upstreamSockets: Socket[] = []
  echo.server.on('upgrade', (_req, socket: Socket) => upstreamSockets.push(socket))
  const lb = await startLb((c) => {
    c.services = [service('ws', [echo.port])]
    c.routes = [route('', '/', 'ws')]
  })
  try {
    const ws = await openWebSocket(lb.port, 'ws.test', '/')
    assert.equal(await ws.send('hi'), 'echo:hi')
    assert.equal(lb.worker.tunnels.open.size, 1)
    const upstream = upstreamSockets[0]
    assert.ok(upstream !== undefined)
    // The echo server never ends its side on its own (http servers allow half-open sockets), so only lb's
    // fin timer can close the tunnel; the client sees its socket closed when it does.
    const started = Date.now()
    ws.socket.end()
    await once(ws.socket, 'close')
    const elapsed = Date.now() - started
    assert.equal(lb.worker.tunnels.open.size, 0)
    assert.ok(upstream.readableEnded, 'the FIN was passed on to the server at once')
    assert.ok(elapsed >= FIN_TIMEOUT - 50, `closed after ${elapsed} ms, before FIN_TIMEOUT`)
    assert.ok(elapsed < FIN_TIMEOUT + 2_000, `closed after ${elapsed} ms`)
  } finally {
    await lb.close()
    await echo.close()
  }
})
