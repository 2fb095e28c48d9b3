/** Consul discovery end to end: an instance registered with a urlprefix- tag becomes routable. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { startConsulLb, hasServers, type ConsulLb } from '../helpers/consul-lb.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { get } from '../helpers/client.js'

let consul: ConsulTestServer
let up: TestUpstream
let t: ConsulLb

before(async () => {
  consul = await ConsulTestServer.start()
  up = await startUpstream('web-1')
  t = await startConsulLb(consul.address)
})

after(async () => {
  await t.close()
  await up.close()
  await consul.close()
})

test('register → routed; no route before', async () => {
  assert.equal((await get(t.lb.url, '/web/')).status, 404)
  consul.register({ id: 'web-1', service: 'web', port: up.port, tags: ['urlprefix-/web/', 'v1'] })
  await t.applied((s) => hasServers(s, '/web/', 1))
  const r = await get(t.lb.url, '/web/x')
  assert.equal(r.status, 200)
  assert.equal(r.body, 'web-1')
  assert.equal(up.requests.at(-1)?.url, '/web/x')
})

test('the service is qualified web@consul and the server named node/serviceID', async () => {
  const s = await t.applied((x) => hasServers(x, '/web/', 1))
  assert.deepEqual(
    s.services.map((x) => [x.name, x.servers.map((v) => `${v.name} ${v.host}:${v.port}`)]),
    [['web@consul', [`node1/web-1 127.0.0.1:${up.port}`]]],
  )
})
