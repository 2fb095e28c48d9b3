/**
 * Dropped tag routes and KV command lines are counted on the provider's per-watch state (current values) and
 * in `stats` (running totals), for the lb_consul_* metrics.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { ConsulProvider } from '../../../src/provider/consul/consul.js'
import { ConsulTestServer } from '../../helpers/consul-server.js'
import { consulConfig, waitFor } from '../../helpers/consul-lb.js'
import { defaultConfig } from '../../../src/config/defaults.js'
import type { Snapshot } from '../../../src/model/snapshot.js'

test('a bad tag and a bad KV line are counted; fixing them brings the current counts back to 0', async () => {
  const consul = await ConsulTestServer.start()
  consul.register({ id: 'a-1', service: 'a', port: 8080, tags: ['urlprefix-/a', 'urlprefix-/bad weight=7'] })
  consul.register({ id: 'a-2', service: 'a', port: 8081, tags: ['urlprefix-/a', 'urlprefix-/bad weight=7'] })
  consul.register({ id: 'b-1', service: 'b', port: 8082, tags: ['urlprefix-/b'] })
  consul.putKv('fabio/config', 'route add x /x http://10.0.0.1:80/\nroute frob\nroute add y /y not-a-url')
  const provider = new ConsulProvider({
    config: consulConfig(consul.address),
    defaults: defaultConfig.defaults,
    log: pino({ level: 'silent' }),
  })
  const snapshots: Snapshot[] = []
  const ac = new AbortController()
  provider.start((s) => snapshots.push(s), ac.signal)
  try {
    await waitFor(() => snapshots.length > 0)
    const state = (name: string) => provider.watches().find((w) => w.name === name)
    assert.equal(state('service:a')?.droppedTags, 2, 'one bad tag on each of two instances')
    assert.equal(state('service:b')?.droppedTags, 0)
    assert.equal(state('kv')?.droppedRouteCommands, 2, 'a syntax error and a bad URL')
    assert.equal(provider.stats.droppedTags, 2)
    assert.equal(provider.stats.droppedRouteCommands, 2)
    assert.deepEqual(
      snapshots.at(-1)?.routes.map((r) => r.path),
      ['/a', '/b', '/x'],
      'only the bad routes are dropped',
    )

    consul.register({ id: 'a-1', service: 'a', port: 8080, tags: ['urlprefix-/a'] })
    consul.register({ id: 'a-2', service: 'a', port: 8081, tags: ['urlprefix-/a'] })
    consul.putKv('fabio/config', 'route add x /x http://10.0.0.1:80/')
    await waitFor(() => state('service:a')?.droppedTags === 0 && state('kv')?.droppedRouteCommands === 0)
    assert.equal(provider.stats.droppedTags, 2, 'totals only grow')
    assert.equal(provider.stats.droppedRouteCommands, 2)
  } finally {
    ac.abort()
    await consul.close()
  }
})
