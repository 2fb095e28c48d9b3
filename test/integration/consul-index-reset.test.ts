/**
 * The Consul index goes backwards (snapshot restore): lb must reset its index and still see later changes.
 * With `wait` at 60 s, a client that kept blocking on the old, higher index would not see the change in time.
 */
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
  consul.index = 5_000
  consul.register({ id: 'r-a', service: 'r', port: portOfUpstream(ups, 0), tags: ['urlprefix-/r'] })
  t = await startConsulLb(consul.address, { consul: (c) => (c.wait = 60_000) })
  await t.applied((s) => hasServers(s, '/r', 1))
})

after(async () => {
  await t.close()
  await Promise.all(ups.map((u) => u.close()))
  await consul.close()
})

test('index backwards → reset → a later registration is still seen', async () => {
  // Every watch blocked on the old, high index first (a request arriving after the restore would block until
  // `wait` ends, in Consul as here).
  await waitFor(() => consul.blocked('health:r') > 0 && consul.blocked('catalog') > 0, 5_000)
  consul.indexBackwards(20)
  await waitFor(() => t.provider.watches().find((w) => w.name === 'service:r')?.resets === 1, 5_000)
  consul.register({ id: 'r-b', service: 'r', port: portOfUpstream(ups, 1), tags: ['urlprefix-/r'] })
  await t.applied((s) => hasServers(s, '/r', 2), 5_000)
  const seen = new Set<string>()
  for (let i = 0; i < 4; i++) seen.add((await get(t.lb.url, '/r')).body)
  assert.deepEqual([...seen].sort(), ['a', 'b'])
})
