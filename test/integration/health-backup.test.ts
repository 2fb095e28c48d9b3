/** A backup takes over only when every normal server is DOWN by health check, and hands back when one returns. */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route, patchServer } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { checkDefaults } from '../../src/config/defaults.js'
import { createServer } from 'node:http'

test('backup: used only while both normal servers are down', async () => {
  const n1 = await startUpstream('n1')
  const n2 = await startUpstream('n2')
  const bk = await startUpstream('backup')
  const n1Port = n1.port
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
  const svc = {
    ...service('svc', [n1.port, n2.port, bk.port]),
    check: { ...checkDefaults, inter: 1_000, rise: 1, fall: 1, initState: 'fully-up' as const },
  }
  patchServer(svc, 2, { backup: true })
  const lb = await startLb((c) => {
    c.services = [svc]
    c.routes = [route('', '/', 'svc')]
  })
  const checker = lb.health
  const tick = async (ms: number): Promise<void> => {
    mock.timers.tick(ms)
    await checker.settled()
  }
  try {
    await tick(1_000)
    const bodies = async (): Promise<string[]> => {
      const out: string[] = []
      for (let i = 0; i < 4; i++) out.push((await get(lb.url, '/')).body)
      return [...new Set(out)].sort()
    }
    assert.deepEqual(await bodies(), ['n1', 'n2'])
    await n1.close()
    await tick(1_000)
    assert.deepEqual(await bodies(), ['n2'])
    await n2.close()
    await tick(1_000)
    assert.deepEqual(await bodies(), ['backup'])
    // n1 comes back on its port: the next check brings it UP and the backup is left again.
    const revived = createServer((_req, res) => res.end('n1'))
    await new Promise<void>((r) => revived.listen({ host: '127.0.0.1', port: n1Port }, r))
    try {
      await tick(1_000)
      assert.deepEqual(await bodies(), ['n1'])
    } finally {
      revived.closeAllConnections()
      await new Promise<void>((r) => revived.close(() => r()))
    }
  } finally {
    mock.timers.reset()
    await lb.close()
    await bk.close()
  }
})
