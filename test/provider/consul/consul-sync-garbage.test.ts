/**
 * The Consul provider says when the initial sync has just left much garbage (`onSyncGarbage`, when the primary
 * collects it, src/process/memory.ts `collect`): once its reads by node have answered, and once before its first
 * build, whose snapshot then has every service; not again for later changes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import pino from 'pino'
import { ConsulTestServer } from '../../helpers/consul-server.js'
import { consulConfig, waitFor } from '../../helpers/consul-lb.js'
import { ConsulProvider } from '../../../src/provider/consul/consul.js'
import { defaultConfig } from '../../../src/config/defaults.js'
import type { Snapshot } from '../../../src/model/snapshot.js'

const SERVICES = 8

test('onSyncGarbage is called after the reads by node and before the first build, not later', async () => {
  const consul = await ConsulTestServer.start()
  for (let s = 0; s < SERVICES; s++)
    consul.register({
      id: `s${s}`,
      service: `s${s}`,
      node: `node-${s % 3}`,
      address: '10.0.0.1',
      port: 8000 + s,
      tags: [`urlprefix-/s${s}`],
    })
  const snapshots: Snapshot[] = []
  /** How many builds had run at each call. */
  const calls: number[] = []
  const provider: ConsulProvider = new ConsulProvider({
    config: consulConfig(consul.address, (c) => {
      c.watch = 'state'
    }),
    defaults: defaultConfig.defaults,
    log: pino({ level: 'silent' }),
    nodeReadsFrom: 1, // the sync reads by node, as at 10,000 services
    onSyncGarbage: () => calls.push(provider.stats.builds), // called once start() has run
  })
  const controller = new AbortController()
  try {
    provider.start((s) => snapshots.push(s), controller.signal)
    await waitFor(() => snapshots.length > 0)
    assert.deepEqual(calls, [0, 0])
    assert.equal(snapshots[0]?.routes.length, SERVICES)
    consul.setCheck('s3', 'critical')
    await waitFor(() => snapshots.some((s) => s.routes.length === SERVICES - 1))
    assert.deepEqual(calls, [0, 0])
  } finally {
    controller.abort()
    await consul.close()
  }
})
