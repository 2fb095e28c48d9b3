/** Runtime controls: drain (no new traffic, still checked), maint (no traffic, no checks), weight. */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { checkDefaults } from '../../src/config/defaults.js'
import { showServers } from '../../src/admin/servers.js'
import { RuntimeError } from '../../src/model/errors.js'

test('drain and maint: traffic stops for both; checks continue only in drain; ready restores', async () => {
  const a = await startUpstream('a')
  const b = await startUpstream('b')
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
  const lb = await startLb((c) => {
    c.services = [
      {
        ...service('svc', [a.port, b.port]),
        check: { ...checkDefaults, inter: 1_000, initState: 'fully-up' },
      },
    ]
    c.routes = [route('', '/', 'svc')]
  })
  const tick = async (ms: number): Promise<void> => {
    mock.timers.tick(ms)
    await lb.health.settled()
  }
  const bodies = async (): Promise<string[]> => {
    const out = new Set<string>()
    for (let i = 0; i < 6; i++) out.add((await get(lb.url, '/')).body)
    return [...out].sort()
  }
  const checksOf = (name: string): number =>
    showServers(lb.worker).find((r) => r.server === name)?.checks ?? -1
  try {
    await tick(1_000)
    assert.deepEqual(await bodies(), ['a', 'b'])
    lb.health.setServerState('svc', 's0', 'drain')
    assert.equal(showServers(lb.worker)[0]?.status, 'DRAIN')
    assert.deepEqual(await bodies(), ['b'])
    const before = checksOf('s0')
    await tick(1_000)
    assert.equal(checksOf('s0'), before + 1, 'drain keeps checking')
    lb.health.setServerState('svc', 's0', 'maint')
    assert.equal(showServers(lb.worker)[0]?.status, 'MAINT')
    assert.deepEqual(await bodies(), ['b'])
    await tick(5_000)
    assert.equal(checksOf('s0'), before + 1, 'maint stops checks')
    lb.health.setServerState('svc', 's0', 'ready')
    await tick(0)
    assert.equal(checksOf('s0'), before + 2, 'leaving maint checks at once')
    assert.deepEqual(await bodies(), ['a', 'b'])
    // Weight: 0 takes it out, 100% restores the configured weight; bad input is a typed error.
    assert.equal(lb.health.setServerWeight('svc', 's1', 0), 0)
    assert.deepEqual(await bodies(), ['a'])
    assert.equal(lb.health.setServerWeight('svc', 's1', '100%'), 1)
    assert.deepEqual(await bodies(), ['a', 'b'])
    assert.throws(() => lb.health.setServerWeight('svc', 's1', 300), RuntimeError)
    assert.throws(() => lb.health.setServerState('svc', 'nope', 'ready'), /no server svc\/nope/)
    // Overrides survive a new snapshot of the same servers.
    lb.health.setServerState('svc', 's0', 'drain')
    const { configToSnapshot } = await import('../../src/provider/file.js')
    await lb.apply(configToSnapshot(lb.config))
    assert.equal(showServers(lb.worker)[0]?.admin, 'drain')
  } finally {
    mock.timers.reset()
    await lb.close()
    await a.close()
    await b.close()
  }
})
