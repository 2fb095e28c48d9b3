/** Consul discovery end to end: a deregistered instance stops receiving traffic; the last one gone → 404. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ConsulTestServer } from '../helpers/consul-server.js'
import { startConsulFixture, hasServers, type ConsulFixture, type ConsulLb } from '../helpers/consul-lb.js'
import { get } from '../helpers/client.js'

let f: ConsulFixture
let consul: ConsulTestServer
let t: ConsulLb

before(async () => {
  f = await startConsulFixture('api', 'urlprefix-/api', '/api', ['a', 'b'])
  consul = f.consul
  t = f.t
})

after(() => f.close())

test('deregister one → only the other instance answers', async () => {
  consul.deregister('api-0')
  await t.applied((s) => hasServers(s, '/api', 1))
  for (let i = 0; i < 10; i++) assert.equal((await get(t.lb.url, '/api')).body, 'b')
})

test('deregister the last → 404', async () => {
  consul.deregister('api-1')
  await t.applied((s) => hasServers(s, '/api', 0))
  assert.equal((await get(t.lb.url, '/api')).status, 404)
})
