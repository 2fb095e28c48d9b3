/**
 * `watch: state`: a check entering `critical` (seen on `/v1/health/state/critical`) takes its instance out of
 * routing at once, before the service is read again; a node check entering critical takes out every instance on
 * that node. The reads still follow and confirm it. Service reads are held by the Consul test server for the
 * whole test, so only the state answer can have changed the routes.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { registerGrid, serversAt, startConsulLb, waitFor, type ConsulLb } from '../helpers/consul-lb.js'

let consul: ConsulTestServer
let t: ConsulLb

const servers = serversAt

before(async () => {
  consul = await ConsulTestServer.start()
  registerGrid(consul, 6, 2)
  t = await startConsulLb(consul.address, {
    consul: (c) => {
      c.watch = 'state'
    },
  })
  await t.applied((s) => s.routes.length === 6 && servers(s, '/s5').length === 2)
  await waitFor(() => consul.blocked('checks') === 3)
  for (let s = 0; s < 6; s++) consul.delay(`/v1/health/service/s${s}`, 600_000)
})

after(async () => {
  await t.close()
  await consul.close()
})

test('a service check entering critical removes its instance before the service is read again', async () => {
  consul.setCheck('s1-0', 'critical')
  const s = await t.applied((x) => servers(x, '/s1').join(' ') === 'node-1/s1-1')
  assert.deepEqual(servers(s, '/s2'), ['node-0/s2-0', 'node-1/s2-1'], 'other services keep their instances')
})

test('a node check entering critical removes every instance on that node', async () => {
  await waitFor(() => consul.blocked('checks') === 3)
  for (const [id, s] of consul.instances) {
    if (s.node !== 'node-1') continue
    for (const c of s.checks) if (c.CheckID === 'serfHealth') c.Status = 'critical'
    // Publish (the test server keeps a node check per instance; the state answer lists it once per node).
    consul.setCheck(id, 'passing')
  }
  const s = await t.applied((x) => servers(x, '/s3').join(' ') === 'node-0/s3-0')
  assert.deepEqual(servers(s, '/s4'), ['node-0/s4-0'])
  // s1 had only its node-1 instance left.
  assert.deepEqual(servers(s, '/s1'), [])
})
