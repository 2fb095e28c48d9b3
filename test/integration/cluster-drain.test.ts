/**
 * Cluster mode (workers: 2): the runtime control `set server … state drain` on the Primary reaches every worker
 * before it resolves: no new request goes to the drained server from any worker. Bad names are RuntimeErrors.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ClusterLb } from '../helpers/cluster.js'
import { configHead, fetchOnce } from '../helpers/daemon.js'
import { startUpstream } from '../helpers/upstream.js'
import { RuntimeError } from '../../src/model/errors.js'

test('cluster: drain through Primary.setServerState stops new requests to that server in every worker', async () => {
  const a = await startUpstream('a')
  const b = await startUpstream('b')
  let lb: ClusterLb | null = null
  try {
    lb = await ClusterLb.start(`
${configHead()}services:
  - name: svc
    balance: roundrobin
    servers:
      - name: a1
        address: 127.0.0.1:${a.port}
      - name: b1
        address: 127.0.0.1:${b.port}
routes:
  - path: /
    service: svc
`)
    const port = await lb.port('web')
    for (let i = 0; i < 20; i++) assert.equal((await fetchOnce(port, '/')).status, 200)
    assert.ok(a.requests.length > 0, 'a served nothing before the drain')

    await lb.p.setServerState('svc', 'a1', 'drain')
    const before = a.requests.length
    for (let i = 0; i < 40; i++) assert.equal((await fetchOnce(port, '/')).body, 'b')
    assert.equal(a.requests.length, before, 'the drained server got new requests')

    await assert.rejects(lb.p.setServerState('svc', 'nope', 'drain'), (err: unknown) => {
      return err instanceof RuntimeError && err.code === 'EDGE_RUNTIME_NOT_FOUND'
    })
    await assert.rejects(lb.p.setServerWeight('svc', 'a1', 'lots'), (err: unknown) => {
      return err instanceof RuntimeError && err.code === 'EDGE_RUNTIME_INVALID'
    })

    // Back to ready: the workers send it traffic again.
    await lb.p.setServerState('svc', 'a1', 'ready')
    for (let i = 0; i < 20; i++) await fetchOnce(port, '/')
    assert.ok(a.requests.length > before, 'a got nothing after ready')
  } finally {
    await lb?.stop()
    await a.close()
    await b.close()
  }
})
