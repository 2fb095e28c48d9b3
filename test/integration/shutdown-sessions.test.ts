/** on_marked_down: shutdown-sessions closes open TCP sessions when their server is marked DOWN. */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf, until } from '../helpers/lb.js'
import { startTcp } from '../helpers/tls.js'
import { checkDefaults } from '../../src/config/defaults.js'

for (const mode of ['shutdown-sessions', 'none'] as const) {
  test(`shutdown-sessions: on_marked_down ${mode}`, async () => {
    const backend = await startTcp((s) => s.on('data', (d: Buffer) => s.write(d)))
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
    const lb = await startLb((c) => {
      c.listeners = [tcpListener('watch', 'api')]
      c.services = [
        {
          ...service('api', [backend.port]),
          onMarkedDown: mode,
          check: { ...checkDefaults, inter: 1_000, rise: 1, fall: 1, initState: 'fully-up' },
        },
      ]
    })
    const tick = async (ms: number): Promise<void> => {
      mock.timers.tick(ms)
      await lb.health.settled()
    }
    try {
      const s = connect({ host: '127.0.0.1', port: portOf(lb, 'watch') })
      await once(s, 'connect')
      s.write('ping')
      await once(s, 'data')
      let closed = false
      s.on('close', () => {
        closed = true
      })
      s.on('error', () => {})
      // Stop accepting new connections; the open one stays open on the backend side.
      backend.server.close()
      await tick(1_000)
      assert.equal(lb.worker.state.services.get('api')?.upstreams[0]?.up, false)
      if (mode === 'shutdown-sessions') {
        await until(() => closed, 'client connection closed')
        await until(() => lb.access.length === 1, 'log line')
        assert.equal(lb.access[0]?.ts, 'SD')
        assert.equal(lb.access[0]?.reason, 'server marked down')
      } else {
        s.write('still there')
        const [d] = (await once(s, 'data')) as [Buffer]
        assert.equal(d.toString(), 'still there')
        s.destroy()
      }
    } finally {
      mock.timers.reset()
      await lb.close()
      for (const x of backend.sockets) x.destroy()
    }
  })
}
