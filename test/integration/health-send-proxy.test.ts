/**
 * Checks of a `send_proxy` service carry the PROXY header too (haproxy: send-proxy applies to checks), so a
 * server that requires the header is UP; `check.send_proxy: false` turns it off and the same server is DOWN.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { startLb, service, tcpListener } from '../helpers/lb.js'
import { startProxyOnlyServer } from '../helpers/proxy-server.js'
import { checkDefaults } from '../../src/config/defaults.js'

for (const checkSendProxy of [undefined, false] as const) {
  test(`health: send_proxy v2 service, check.send_proxy ${String(checkSendProxy)}`, async () => {
    const backend = await startProxyOnlyServer(false)
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
    const lb = await startLb((c) => {
      c.listeners = [tcpListener('pp', 'api')]
      c.services = [
        {
          ...service('api', [backend.port]),
          sendProxy: 'v2',
          check: {
            ...checkDefaults,
            type: 'http',
            inter: 1_000,
            rise: 1,
            fall: 1,
            initState: 'fully-down',
            ...(checkSendProxy === undefined ? {} : { sendProxy: checkSendProxy }),
          },
        },
      ]
    })
    try {
      for (let i = 0; i < 2; i++) {
        mock.timers.tick(1_000)
        await lb.health.settled()
      }
      const up = lb.worker.state.services.get('api')?.upstreams[0]
      if (checkSendProxy === undefined) {
        assert.equal(up?.up, true)
        assert.equal(up?.health?.last?.reason, 'L7OK')
        assert.ok(backend.seen.length >= 1)
        assert.equal(backend.seen[0]?.header.version, 2)
        assert.equal(backend.seen[0]?.header.command, 'local')
      } else {
        assert.equal(up?.up, false)
        assert.equal(up?.health?.last?.reason, 'L7RSP')
        assert.equal(backend.seen.length, 0)
        assert.ok(backend.dropped.count >= 1)
      }
    } finally {
      mock.timers.reset()
      await lb.close()
      await backend.close()
    }
  })
}
