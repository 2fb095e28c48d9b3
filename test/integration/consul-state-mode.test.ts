/**
 * Consul `watch: auto` above `state_threshold` routed services: blocking queries on the health state
 * (`/v1/health/state/any`, and `critical` and `warning` for status changes) instead of one per service; a check
 * change re-reads only the services it concerns, and changes still converge (register, critical, node check, tag
 * change).
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { registerGrid, serversAt, startConsulLb, waitFor, type ConsulLb } from '../helpers/consul-lb.js'

let consul: ConsulTestServer
let t: ConsulLb

/** Blocking queries on the checks table in state mode: state/any, state/critical, state/warning. */
const STATE_WATCHES = 3

const servers = serversAt

/** Reads of `/v1/health/service/<name>` since `from` (index into consul.requests). */
const healthReads = (from: number): string[] =>
  consul.requests
    .slice(from)
    .map((r) => /^\/v1\/health\/service\/([^?]+)/.exec(r.url)?.[1])
    .filter((x): x is string => x !== undefined)

before(async () => {
  consul = await ConsulTestServer.start()
  registerGrid(consul, 6, 2)
  t = await startConsulLb(consul.address, {
    consul: (c) => {
      c.watch = 'auto'
      c.stateThreshold = 4
    },
  })
  await t.applied((s) => s.routes.length === 6 && servers(s, '/s5').length === 2)
})

after(async () => {
  await t.close()
  await consul.close()
})

test('above the threshold: blocking queries on the health state, none per service', async () => {
  await waitFor(() => consul.blocked('checks') === STATE_WATCHES)
  for (let s = 0; s < 6; s++) assert.equal(consul.blocked(`health:s${s}`), 0, `s${s}`)
  assert.ok(t.provider.watches().some((w) => w.name === 'state'))
  assert.equal(t.provider.watches().filter((w) => w.name.startsWith('service:')).length, 6)
})

test('a new instance is routed, and only its service is read again', async () => {
  const from = consul.requests.length
  consul.register({
    id: 's2-9',
    service: 's2',
    node: 'node-9',
    address: '10.0.2.9',
    port: 8000,
    tags: ['urlprefix-/s2'],
  })
  await t.applied((s) => servers(s, '/s2').length === 3)
  assert.deepEqual([...new Set(healthReads(from))], ['s2'])
})

test('a critical check removes the instance; only that service is read again', async () => {
  await waitFor(() => consul.blocked('checks') === STATE_WATCHES)
  const from = consul.requests.length
  consul.setCheck('s3-0', 'critical')
  await t.applied((s) => servers(s, '/s3').join(' ') === 'node-1/s3-1')
  // The state answer removes the instance at once (consul-critical-fast.test.ts); the read confirms it.
  await waitFor(() => healthReads(from).length > 0)
  assert.deepEqual([...new Set(healthReads(from))], ['s3'])
})

test('a tag change seen in the catalog re-reads the service', async () => {
  consul.register({
    id: 's4-0',
    service: 's4',
    node: 'node-0',
    address: '10.0.4.1',
    port: 8000,
    tags: ['urlprefix-/s4', 'urlprefix-/four'],
  })
  await t.applied((s) => servers(s, '/four').join(' ') === 'node-0/s4-0')
})

test('a service losing its routing tags is dropped', async () => {
  consul.deregister('s5-0')
  consul.deregister('s5-1')
  await t.applied((s) => s.routes.every((r) => r.path !== '/s5'))
  assert.ok(!t.provider.watches().some((w) => w.name === 'service:s5'))
})

test('a node check going critical and back re-reads the services on that node, routed there or not', async () => {
  await waitFor(() => consul.blocked('checks') === STATE_WATCHES)
  // The node's serfHealth (the test server keeps a copy per instance; the state answer lists it once per node).
  const setNode = (node: string, status: 'passing' | 'critical'): void => {
    let some = ''
    for (const [id, s] of consul.instances) {
      if (s.node !== node) continue
      some = id
      for (const c of s.checks) if (c.CheckID === 'serfHealth') c.Status = status
    }
    // Publish the change (same service check status; bumps the index as a check update does).
    const svc = consul.instances.get(some)?.checks.find((c) => c.ServiceID === some)
    consul.setCheck(some, svc?.Status ?? 'passing')
  }
  setNode('node-1', 'critical')
  const down = await t.applied((s) => servers(s, '/s0').join(' ') === 'node-0/s0-0')
  assert.deepEqual(servers(down, '/s2'), ['node-0/s2-0', 'node-9/s2-9'])
  // Back to passing: s2 has no routed instance on node-1 any more, only a check there, and must be read again.
  await waitFor(() => consul.blocked('checks') === STATE_WATCHES)
  setNode('node-1', 'passing')
  await t.applied((s) => servers(s, '/s2').length === 3 && servers(s, '/s0').length === 2)
})
