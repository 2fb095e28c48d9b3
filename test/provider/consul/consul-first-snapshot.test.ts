/**
 * The Consul provider's first snapshot holds every routed service: the initial sync ends when the catalog,
 * the KV prefix and every service found in the catalog have answered — not when the catalog's fetch returned
 * but before the service watches it starts had answered (a race that emitted an empty first snapshot when the
 * KV answer came first).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { ConsulProvider } from '../../../src/provider/consul/consul.js'
import { ConsulTestServer } from '../../helpers/consul-server.js'
import { consulConfig, waitFor } from '../../helpers/consul-lb.js'
import { defaultConfig } from '../../../src/config/defaults.js'
import type { Snapshot } from '../../../src/model/snapshot.js'

for (const watch of ['service', 'state'] as const) {
  test(`watch: ${watch}: the first snapshot has every service`, async () => {
    const consul = await ConsulTestServer.start()
    for (let s = 0; s < 5; s++)
      consul.register({ id: `s${s}`, service: `s${s}`, port: 8000 + s, tags: [`urlprefix-/s${s}`] })
    // The KV answer first, the catalog's a little later: the catalog's fetch then settles last.
    consul.delay('/v1/catalog/services', 50)
    const provider = new ConsulProvider({
      config: consulConfig(consul.address, (c) => (c.watch = watch)),
      defaults: defaultConfig.defaults,
      log: pino({ level: 'silent' }),
    })
    const snapshots: Snapshot[] = []
    const controller = new AbortController()
    provider.start((s) => snapshots.push(s), controller.signal)
    try {
      await waitFor(() => snapshots.length > 0)
      assert.deepEqual(
        snapshots[0]?.routes.map((r) => r.path),
        ['/s0', '/s1', '/s2', '/s3', '/s4'],
      )
    } finally {
      controller.abort()
      await consul.close()
    }
  })
}
