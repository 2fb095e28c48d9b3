/**
 * Consul KV `route weight` canary end to end: 5 % of requests to the instances tagged `version-2`, measured
 * over 10,000 requests through lb, within ±2 %.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { startConsulLb, type ConsulLb } from '../helpers/consul-lb.js'
import { startUpstream, type TestUpstream, portOfUpstream } from '../helpers/upstream.js'
import { get, newAgent } from '../helpers/client.js'

let consul: ConsulTestServer
let ups: TestUpstream[]
let t: ConsulLb

before(async () => {
  consul = await ConsulTestServer.start()
  ups = await Promise.all(['v1-a', 'v1-b', 'v2-a'].map((n) => startUpstream(n)))
  consul.register({
    id: 'shop-1',
    service: 'shop',
    port: portOfUpstream(ups, 0),
    tags: ['urlprefix-shop.test/', 'version-1'],
  })
  consul.register({
    id: 'shop-2',
    service: 'shop',
    port: portOfUpstream(ups, 1),
    tags: ['urlprefix-shop.test/', 'version-1'],
  })
  consul.register({
    id: 'shop-3',
    service: 'shop',
    port: portOfUpstream(ups, 2),
    tags: ['urlprefix-shop.test/', 'version-2'],
  })
  t = await startConsulLb(consul.address)
  consul.putKv('fabio/config/canary', 'route weight shop shop.test/ weight 0.05 tags "version-2"\n')
  await t.applied((s) =>
    s.services.some((x) => x.servers.some((v) => v.name === 'node1/shop-3' && v.weight < 100)),
  )
})

after(async () => {
  await t.close()
  await Promise.all(ups.map((u) => u.close()))
  await consul.close()
})

test('route weight 0.05 tags "version-2" → 5 % ± 2 % over 10,000 requests', async () => {
  const agent = newAgent()
  const counts = new Map<string, number>()
  const total = 10_000
  let next = 0
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < total) {
        next++
        const r = await get(t.lb.url, '/', { host: 'shop.test', agent })
        assert.equal(r.status, 200)
        counts.set(r.body, (counts.get(r.body) ?? 0) + 1)
      }
    }),
  )
  await agent.close()
  const canary = (counts.get('v2-a') ?? 0) / total
  assert.ok(Math.abs(canary - 0.05) <= 0.02, `canary share ${canary}`)
  const rest = ((counts.get('v1-a') ?? 0) + (counts.get('v1-b') ?? 0)) / total
  assert.ok(Math.abs(rest - 0.95) <= 0.02, `v1 share ${rest}`)
})
