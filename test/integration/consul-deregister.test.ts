/** Consul discovery end to end: a deregistered instance stops receiving traffic; the last one gone → 404. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { startConsulLb, hasServers, type ConsulLb } from '../helpers/consul-lb.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { get } from '../helpers/client.js'

let consul: ConsulTestServer
let ups: TestUpstream[]
let t: ConsulLb

before(async () => {
  consul = await ConsulTestServer.start()
  ups = await Promise.all(['a', 'b'].map((n) => startUpstream(n)))
  ups.forEach((u, i) =>
    consul.register({ id: `api-${i}`, service: 'api', port: u.port, tags: ['urlprefix-/api'] }),
  )
  t = await startConsulLb(consul.address)
  await t.applied((s) => hasServers(s, '/api', 2))
})

after(async () => {
  await t.close()
  await Promise.all(ups.map((u) => u.close()))
  await consul.close()
})

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
