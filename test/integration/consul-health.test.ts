/** Consul discovery end to end: a critical check or maintenance removes the instance; passing brings it back. */
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
    consul.register({ id: `app-${i}`, service: 'app', port: u.port, tags: ['urlprefix-/'] }),
  )
  t = await startConsulLb(consul.address)
  await t.applied((s) => hasServers(s, '/', 2))
})

after(async () => {
  await t.close()
  await Promise.all(ups.map((u) => u.close()))
  await consul.close()
})

test('health critical → removed', async () => {
  consul.setCheck('app-0', 'critical')
  await t.applied((s) => hasServers(s, '/', 1))
  for (let i = 0; i < 6; i++) assert.equal((await get(t.lb.url, '/')).body, 'b')
})

test('passing again → back in rotation', async () => {
  consul.setCheck('app-0', 'passing')
  await t.applied((s) => hasServers(s, '/', 2))
  const seen = new Set<string>()
  for (let i = 0; i < 6; i++) seen.add((await get(t.lb.url, '/')).body)
  assert.deepEqual([...seen].sort(), ['a', 'b'])
})

test('service maintenance → removed', async () => {
  consul.maintenance('app-1', true)
  await t.applied((s) => hasServers(s, '/', 1))
  assert.equal((await get(t.lb.url, '/')).body, 'a')
})
