/** allow/deny apply to Upgrade requests too: a WebSocket cannot get around a route's ACL. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startEchoServer, openWebSocket } from '../helpers/websocket.js'
import { startLb, service, route } from '../helpers/lb.js'

test('a denied client gets 403 on Upgrade and the server sees nothing', async () => {
  const echo = await startEchoServer()
  const lb = await startLb((c) => {
    c.services = [service('ws', [echo.port])]
    c.routes = [
      { ...route('', '/denied', 'ws'), deny: ['127.0.0.0/8'] } as (typeof c.routes)[number],
      { ...route('', '/allowed', 'ws'), allow: ['127.0.0.0/8'] } as (typeof c.routes)[number],
    ]
  })
  try {
    await assert.rejects(openWebSocket(lb.port, 'ws.test', '/denied'), /expected 101, got 403/)
    assert.equal(echo.upgrades.length, 0)
    const ws = await openWebSocket(lb.port, 'ws.test', '/allowed')
    assert.equal(await ws.send('hi'), 'echo:hi')
    ws.socket.destroy()
  } finally {
    await lb.close()
    await echo.close()
  }
})
