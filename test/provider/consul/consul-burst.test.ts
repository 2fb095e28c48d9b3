/**
 * The Consul provider reports the end of a burst of work (`onBurst`, after which the primary releases memory,
 * src/process/memory.ts): once after the initial sync, once after a round of ≥ BURST_READS service reads (a `state`
 * mode resync), and not for a change that re-reads one service.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulTestServer } from '../../helpers/consul-server.js'
import { startConsulLb, waitFor } from '../../helpers/consul-lb.js'
import { BURST_READS } from '../../../src/provider/consul/consul.js'
import type { Snapshot } from '../../../src/model/snapshot.js'

const SERVICES = BURST_READS + 20

async function catalog(): Promise<ConsulTestServer> {
  const consul = await ConsulTestServer.start()
  for (let s = 0; s < SERVICES; s++)
    consul.register({
      id: `s${s}`,
      service: `s${s}`,
      node: 'node-0',
      address: '10.0.0.1',
      port: 8000 + s,
      tags: [`urlprefix-/s${s}`],
    })
  return consul
}

const routedAll = (s: Snapshot): boolean => s.routes.length === SERVICES

test('one burst after the initial sync; a one-service change is none', async () => {
  const consul = await catalog()
  let bursts = 0
  const t = await startConsulLb(consul.address, {
    consul: (c) => {
      c.watch = 'state'
    },
    onBurst: () => bursts++,
  })
  try {
    await t.applied(routedAll, 30_000)
    assert.equal(bursts, 1)
    consul.setCheck('s7', 'critical')
    await t.applied((s) => s.routes.length === SERVICES - 1)
    // All three state watches blocked again (state/any, state/critical, state/warning): the change is handled.
    await waitFor(() => consul.blocked('checks') === 3)
    assert.equal(bursts, 1)
  } finally {
    await t.close()
    await consul.close()
  }
})

test('a state-mode resync (every service read again) is a burst', async () => {
  const consul = await catalog()
  let bursts = 0
  const t = await startConsulLb(consul.address, {
    consul: (c) => {
      c.watch = 'state'
      c.wait = 1_000 // the resync period
    },
    onBurst: () => bursts++,
  })
  try {
    await t.applied(routedAll, 30_000)
    await waitFor(() => bursts >= 2, 30_000)
  } finally {
    await t.close()
    await consul.close()
  }
})
