/** Consul discovery end to end: a critical check or maintenance removes the instance; passing brings it back. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ConsulTestServer } from '../helpers/consul-server.js'
import { startConsulFixture, hasServers, type ConsulFixture, type ConsulLb } from '../helpers/consul-lb.js'
import { get } from '../helpers/client.js'

let f: ConsulFixture
let consul: ConsulTestServer
let t: ConsulLb

before(async () => {
  f = await startConsulFixture('app', 'urlprefix-/', '/', ['a', 'b'])
  consul = f.consul
  t = f.t
})

after(() => f.close())

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
