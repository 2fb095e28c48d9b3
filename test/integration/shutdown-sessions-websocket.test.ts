/** on_marked_down: shutdown-sessions also cuts open WebSocket tunnels when their server is marked DOWN. */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { startEchoServer, openWebSocket } from '../helpers/websocket.js'
import { startLb, service, route, until } from '../helpers/lb.js'
import { checkDefaults } from '../../src/config/defaults.js'

for (const mode of ['shutdown-sessions', 'none'] as const) {
  test(`shutdown-sessions: WebSocket tunnel with on_marked_down ${mode}`, async () => {
    const echo = await startEchoServer()
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
    const lb = await startLb((c) => {
      c.services = [
        {
          ...service('ws', [echo.port]),
          onMarkedDown: mode,
          check: { ...checkDefaults, inter: 1_000, rise: 1, fall: 1, initState: 'fully-up' },
        },
      ]
      c.routes = [route('ws.test', '/', 'ws')]
    })
    const tick = async (ms: number): Promise<void> => {
      mock.timers.tick(ms)
      await lb.health.settled()
    }
    try {
      const ws = await openWebSocket(lb.port, 'ws.test', '/')
      assert.equal(await ws.send('ping'), 'echo:ping')
      let closed = false
      ws.socket.on('close', () => {
        closed = true
      })
      ws.socket.on('error', () => {})
      // Stop accepting: the check fails, the open tunnel stays up on the server side.
      echo.server.close()
      await tick(1_000)
      assert.equal(lb.worker.state.services.get('ws')?.upstreams[0]?.up, false)
      if (mode === 'shutdown-sessions') {
        await until(() => closed, 'client tunnel closed')
        await until(() => lb.access.length === 1, 'log line')
        assert.equal(lb.access[0]?.ts, 'SD')
        assert.equal(lb.access[0]?.reason, 'server marked down')
        assert.equal(lb.worker.state.services.get('ws')?.upstreams[0]?.sessions.size, 0)
      } else {
        assert.equal(await ws.send('still there'), 'echo:still there')
        assert.equal(closed, false)
        ws.socket.destroy()
      }
    } finally {
      mock.timers.reset()
      await lb.close()
      await echo.close()
    }
  })
}
