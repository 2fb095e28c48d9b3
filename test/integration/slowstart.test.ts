/** slowstart: a server coming back UP ramps its effective weight from 1 to its weight, recomputed at each check. */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route, patchServer } from '../helpers/lb.js'
import { checkDefaults } from '../../src/config/defaults.js'
import { showServers } from '../../src/admin/servers.js'

test('slowstart: 1 → 100 over 10s after recovery, in steps at every check', async () => {
  const up = await startUpstream('a')
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
  const svc = {
    ...service('svc', [up.port]),
    slowstart: 10_000,
    check: { ...checkDefaults, inter: 2_500, rise: 1, fall: 1, initState: 'down' as const },
  }
  patchServer(svc, 0, { weight: 100 })
  const lb = await startLb((c) => {
    c.services = [svc]
    c.routes = [route('', '/', 'svc')]
  })
  const tick = async (ms: number): Promise<void> => {
    mock.timers.tick(ms)
    await lb.health.settled()
  }
  try {
    const row = () => showServers(lb.worker)[0]
    assert.equal(row()?.up, false)
    await tick(0) // first check passes: UP at t=0, ramp starts
    assert.equal(row()?.up, true)
    assert.equal(row()?.status, 'UP (slowstart)')
    const weights: number[] = [row()?.effectiveWeight ?? -1]
    for (let i = 0; i < 5; i++) {
      await tick(2_500)
      weights.push(row()?.effectiveWeight ?? -1)
    }
    assert.deepEqual(weights, [1, 25, 50, 75, 100, 100])
    assert.equal(row()?.status, 'UP')
  } finally {
    mock.timers.reset()
    await lb.close()
    await up.close()
  }
})
