/** Consul lost after sync → the last good routes keep serving; Consul back → lb converges on its changes. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { startConsulLb, hasServers, type ConsulLb, waitFor } from '../helpers/consul-lb.js'
import { startUpstream, type TestUpstream, portOfUpstream } from '../helpers/upstream.js'
import { get } from '../helpers/client.js'

let consul: ConsulTestServer
let ups: TestUpstream[]
let t: ConsulLb

before(async () => {
  consul = await ConsulTestServer.start()
  ups = await Promise.all(['a', 'b'].map((n) => startUpstream(n)))
  consul.register({ id: 'svc-a', service: 'svc', port: portOfUpstream(ups, 0), tags: ['urlprefix-/'] })
  t = await startConsulLb(consul.address, { consul: (c) => (c.wait = 1_000) })
  await t.applied((s) => hasServers(s, '/', 1))
})

after(async () => {
  await t.close()
  await Promise.all(ups.map((u) => u.close()))
  await consul.close()
})

test('500s and a wedged agent: routes keep serving, errors are counted', async () => {
  consul.failNext(1_000_000)
  consul.touch('health:svc') // wake the blocked query so the next requests hit the 500s
  consul.touch('catalog')
  await waitFor(() => t.provider.watches().some((w) => w.errors >= 2))
  assert.equal((await get(t.lb.url, '/')).body, 'a')
  consul.failNext(0)
  consul.hang(true)
  assert.equal((await get(t.lb.url, '/')).body, 'a')
})

test('recovered → converges on the changes made meanwhile', async () => {
  consul.register({ id: 'svc-b', service: 'svc', port: portOfUpstream(ups, 1), tags: ['urlprefix-/'] })
  consul.hang(false)
  await t.applied((s) => hasServers(s, '/', 2))
  const seen = new Set<string>()
  for (let i = 0; i < 6; i++) seen.add((await get(t.lb.url, '/')).body)
  assert.deepEqual([...seen].sort(), ['a', 'b'])
})
