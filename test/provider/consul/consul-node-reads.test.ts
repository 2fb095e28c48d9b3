/**
 * `state` mode reads many services at once by node (`/v1/catalog/nodes`, then each node's
 * `/v1/catalog/node-services/<node>`, with the node's checks from the `state/any` answer parsed whole, else from
 * `/v1/health/node/<node>`): the snapshot is the one the per-service reads give (instances across nodes, a
 * critical instance, a warning, a node check critical, maintenance, an instance without checks), no service is
 * read alone during the sync, a later read by node reads the checks the state answer no longer has whole, and a
 * failing read by node falls back to reading each service.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulTestServer } from '../../helpers/consul-server.js'
import { firstConsulSnapshot, waitFor, watchConsul } from '../../helpers/consul-lb.js'
import type { ConsulConfig } from '../../../src/config/types.js'
import type { Snapshot } from '../../../src/model/snapshot.js'

async function catalog(): Promise<ConsulTestServer> {
  const consul = await ConsulTestServer.start()
  for (let s = 0; s < 12; s++) {
    for (let i = 0; i < 3; i++) {
      consul.register({
        id: `s${s}-${i}`,
        service: `s${s}`,
        node: `node-${(s + i) % 5}`,
        nodeAddress: `10.0.0.${(s + i) % 5}`,
        address: i === 2 ? '' : `10.1.${s}.${i}`,
        port: 8000 + i,
        tags: [`urlprefix-/s${s}`, 'other'],
        ...(s === 3 && i === 0 ? { check: 'critical' as const } : {}),
        ...(s === 4 && i === 1 ? { check: 'warning' as const } : {}),
        ...(s === 5 ? { check: null } : {}),
      })
    }
  }
  consul.maintenance('s6-0', true)
  // node-4's serfHealth (the server keeps a copy per instance; answers list the first one's).
  for (const s of consul.instances.values())
    if (s.node === 'node-4') for (const c of s.checks) if (c.CheckID === 'serfHealth') c.Status = 'critical'
  return consul
}

const stateMode = (c: ConsulConfig): void => {
  c.watch = 'state'
  c.status = ['passing', 'warning']
  c.routeWithoutChecks = true
}

const reads = (consul: ConsulTestServer, path: string): number =>
  consul.requests.filter((r) => r.url.startsWith(path)).length

test('a read by node gives the snapshot of per-service reads, without a service read', async () => {
  const consul = await catalog()
  try {
    const alone = await firstConsulSnapshot(consul.address, stateMode, Infinity)
    assert.equal(reads(consul, '/v1/catalog/node-services/'), 0)
    consul.requests.length = 0
    const byNode = await firstConsulSnapshot(consul.address, stateMode, 1)
    assert.equal(reads(consul, '/v1/health/service/'), 0, 'no service read alone')
    assert.equal(reads(consul, '/v1/catalog/node-services/'), 5)
    assert.equal(reads(consul, '/v1/health/node/'), 0, "the checks come from the state answer's whole parse")
    assert.deepEqual(byNode, alone)
    // What the catalog makes of it: s3 without its critical instance, s6 without the one in maintenance, no
    // instance on node-4 anywhere.
    const s3 = byNode.services.find((s) => s.name === 's3')
    assert.ok(s3 !== undefined && !s3.servers.some((x) => x.host === '10.1.3.0'))
  } finally {
    await consul.close()
  }
})

test('a read by node after a change reads the checks of each node', async () => {
  const consul = await catalog()
  const { snapshots, stop } = watchConsul(consul.address, stateMode, 1)
  try {
    await waitFor(() => snapshots.length > 0)
    const servers = (s: Snapshot | undefined): number =>
      s?.services.find((x) => x.name === 's1')?.servers.length ?? -1
    assert.equal(servers(snapshots[0]), 3)
    consul.requests.length = 0
    consul.setCheck('s1-0', 'critical')
    // Out of routing at once (the critical answer), then confirmed by a read by node (nodeReadsFrom 1), which
    // reads each node's checks: the state answer was not parsed whole this time.
    await waitFor(() => servers(snapshots.at(-1)) === 2)
    await waitFor(() => reads(consul, '/v1/health/node/') === 5)
    assert.equal(servers(snapshots.at(-1)), 2)
  } finally {
    stop()
    await consul.close()
  }
})

test('a failing read by node reads each service instead', async () => {
  const consul = await catalog()
  try {
    const alone = await firstConsulSnapshot(consul.address, stateMode, Infinity)
    consul.requests.length = 0
    consul.failPath('/v1/catalog/nodes', true)
    const byNode = await firstConsulSnapshot(consul.address, stateMode, 1)
    assert.equal(reads(consul, '/v1/catalog/node-services/'), 0)
    assert.equal(reads(consul, '/v1/health/service/'), 12)
    assert.deepEqual(byNode, alone)
  } finally {
    await consul.close()
  }
})
