/**
 * A Consul provider with `qualify` (as the daemon runs it) names its services `<service>@consul` itself, and the
 * merge takes its lists as they are: the merged snapshot equals the one the merge makes by qualifying a plain
 * provider's snapshot, with no copy of any service or route.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { ConsulProvider } from '../../../src/provider/consul/consul.js'
import { merge, type MergeMemo } from '../../../src/provider/merge.js'
import { ConsulTestServer } from '../../helpers/consul-server.js'
import { consulConfig, waitFor } from '../../helpers/consul-lb.js'
import { defaultConfig } from '../../../src/config/defaults.js'
import type { Snapshot } from '../../../src/model/snapshot.js'

async function first(
  address: string,
  qualify: boolean,
): Promise<{ provider: ConsulProvider; snapshot: Snapshot }> {
  const provider = new ConsulProvider({
    config: consulConfig(address),
    defaults: defaultConfig.defaults,
    log: pino({ level: 'silent' }),
    qualify,
  })
  const snapshots: Snapshot[] = []
  const controller = new AbortController()
  provider.start((s) => snapshots.push(s), controller.signal)
  try {
    await waitFor(() => snapshots.length > 0)
    return { provider, snapshot: snapshots[0] as Snapshot }
  } finally {
    controller.abort()
  }
}

const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0

test('consul provider with qualify: names its services as the merge would; the merge takes them as they are', async () => {
  const consul = await ConsulTestServer.start()
  try {
    // `a-b` sorts before `a@consul` but after `a`: the qualified names are in their own order.
    for (const [i, name] of ['a', 'a-b', 'web'].entries())
      consul.register({
        id: `${name}-1`,
        service: name,
        port: 8000 + i,
        tags: [`urlprefix-${name}.example.com/`],
      })
    consul.register({ id: 'tcp-1', service: 'tcp', port: 9000, tags: ['urlprefix-:7000 proto=tcp'] })
    const plain = await first(consul.address, false)
    const named = await first(consul.address, true)
    assert.equal(plain.provider.qualified, false)
    assert.equal(named.provider.qualified, true)
    assert.deepEqual(
      named.snapshot.services.map((s) => s.name),
      ['a-b@consul', 'a@consul', 'tcp@consul', 'web@consul'],
    )
    assert.deepEqual(
      named.snapshot.routes.map((r) => r.service),
      ['a-b@consul', 'a@consul', 'web@consul'],
    )
    assert.deepEqual(
      named.snapshot.tcpRoutes.map((r) => r.service),
      ['tcp@consul'],
    )

    const memo: MergeMemo = new Map()
    const viaMerge = merge([{ provider: 'consul', snapshot: plain.snapshot }], memo)
    const asIs = merge([{ provider: 'consul', snapshot: named.snapshot, qualified: true }], memo)
    assert.deepEqual(
      { ...asIs, services: asIs.services.slice().sort(byName) },
      {
        ...viaMerge,
        services: viaMerge.services.slice().sort(byName),
      },
    )
    assert.equal(asIs.services, named.snapshot.services, 'the provider list itself')
    assert.equal(asIs.routes, named.snapshot.routes, 'the provider list itself')
    assert.equal(memo.has('consul'), false, 'no copies kept for a provider that names its services itself')
  } finally {
    await consul.close()
  }
})
