/**
 * `timeouts.server` fires on time: a server that reads the request and never answers gets the client a 504 `sH`
 * within 10 ms of the setting, beyond whatever the event loop itself was late by (lb's timers share one heap
 * set to the exact earliest deadline, not a coarse tick).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('504 sH within 10 ms of timeouts.server', async () => {
  const up = await startUpstream('hang', (req) => req.resume())
  const lb = await startLb((c) => {
    c.services = [
      service('svc', [up.port], { timeouts: { connect: 1_000, server: 500, body: 5_000, keepAlive: 4_000 } }),
    ]
    c.routes = [route('', '/', 'svc')]
  })
  const lag = monitorEventLoopDelay({ resolution: 1 })
  try {
    lag.enable()
    const r = await get(lb.url, '/')
    lag.disable()
    assert.equal(r.status, 504)
    const line = lb.access.at(-1)
    assert.equal(line?.ts, 'sH')
    // From the connection's establishment (the request goes out at once) to the 504; Ta and Tc are rounded.
    const waited = Number(line?.Ta) - Number(line?.Tc)
    const lateBy = lag.max / 1e6
    assert.ok(waited >= 499, `timed out after ${waited} ms`)
    assert.ok(
      waited <= 511 + lateBy,
      `timed out after ${waited} ms (event loop late by up to ${lateBy.toFixed(1)} ms)`,
    )
  } finally {
    await lb.close()
    await up.close()
  }
})
