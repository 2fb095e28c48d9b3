/**
 * Cluster mode starts Consul discovery while the workers start (process/primary.ts): discovery is under way
 * before the workers are ready, and the snapshot it publishes reaches them once they are up.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Daemon } from '../helpers/daemon.js'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { startUpstream } from '../helpers/upstream.js'

test('cluster: Consul discovery starts before the workers are ready, and its routes reach them', async () => {
  const up = await startUpstream('shop')
  const consul = await ConsulTestServer.start()
  consul.register({ id: 'shop-1', service: 'shop', port: up.port, tags: ['urlprefix-shop.test/'] })
  const lb = await Daemon.start(`workers: 2
log:
  access:
    enabled: false
admin:
  address: off
listeners:
  - name: web
    address: 127.0.0.1:0
consul:
  addresses: [${consul.address}]
`)
  try {
    const at = (msg: string): number => lb.lines.findIndex((l) => l.msg === msg)
    assert.ok(at('consul discovery started') >= 0, 'discovery started')
    assert.ok(at('consul discovery started') < at('workers ready'), 'discovery before the workers are ready')
    await lb.waitFor(
      (l) => l.msg === 'route table swapped' && l.worker === 2 && l.routes === 1,
      'worker 2 routes',
    )
    await lb.waitFor(
      (l) => l.msg === 'route table swapped' && l.worker === 1 && l.routes === 1,
      'worker 1 routes',
    )
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await consul.close()
    await up.close()
  }
})
