/** WebSocket upgrade tunnelled through lb: handshake, echo both ways, routing and forwarded headers. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startEchoServer, openWebSocket } from '../helpers/websocket.js'
import { startLb, service, route } from '../helpers/lb.js'
import { deadPort } from '../helpers/upstream.js'

test('WebSocket echo through lb', async () => {
  const echo = await startEchoServer()
  const lb = await startLb((c) => {
    c.services = [service('ws', [echo.port])]
    c.routes = [route('ws.test', '/socket', 'ws', { strip: '/socket' })]
  })
  try {
    const ws = await openWebSocket(lb.port, 'ws.test', '/socket/chat')
    assert.equal(ws.accept, ws.expectedAccept)
    assert.equal(await ws.send('hello'), 'echo:hello')
    assert.equal(await ws.send('x'.repeat(1000)), 'echo:' + 'x'.repeat(1000))
    assert.equal(echo.upgrades[0]?.url, '/chat')
    assert.equal(echo.upgrades[0]?.headers['x-forwarded-for'], '127.0.0.1')
    assert.equal(echo.upgrades[0]?.headers.upgrade, 'websocket')
    ws.socket.destroy()
  } finally {
    await lb.close()
    await echo.close()
  }
})

test('WebSocket to a dead server is retried, then 503', async () => {
  const dead = await deadPort()
  const echo = await startEchoServer()
  const lb = await startLb((c) => {
    c.services = [service('ws', [dead, echo.port], { retries: 1 }), service('none', [dead], { retries: 0 })]
    c.routes = [route('ws.test', '/', 'ws'), route('none.test', '/', 'none')]
  })
  try {
    for (let i = 0; i < 4; i++) {
      const ws = await openWebSocket(lb.port, 'ws.test', '/')
      assert.equal(await ws.send('hi'), 'echo:hi')
      ws.socket.destroy()
    }
    await assert.rejects(openWebSocket(lb.port, 'none.test', '/'), /expected 101, got 503/)
  } finally {
    await lb.close()
    await echo.close()
  }
})
