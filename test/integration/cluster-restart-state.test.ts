/**
 * Cluster mode (workers: 2): workers started later (a rolling restart replaces both) get the current health
 * verdicts and runtime state with their first state, before they listen: a server the primary's checks found
 * down and a drained server get no request from the new workers.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ClusterLb } from '../helpers/cluster.js'
import { configHead, fetchOnce } from '../helpers/daemon.js'
import { startUpstream } from '../helpers/upstream.js'

/** Answers its name, but 503 on /health. */
function sick(req: IncomingMessage, res: ServerResponse, name: string): void {
  req.resume()
  res.writeHead(req.url === '/health' ? 503 : 200)
  res.end(name)
}

const served = (u: { requests: { url: string }[] }): number =>
  u.requests.filter((r) => r.url !== '/health').length

test('cluster: restarted workers start with the current health and admin state', async () => {
  const a = await startUpstream('a')
  const b = await startUpstream('b')
  const c = await startUpstream('c', sick)
  let lb: ClusterLb | null = null
  try {
    lb = await ClusterLb.start(`
shutdown:
  timeout: 1s
${configHead()}services:
  - name: svc
    balance: roundrobin
    check:
      type: http
      inter: 1s
      fall: 1
      rise: 1
      http:
        path: /health
    servers:
      - name: a1
        address: 127.0.0.1:${a.port}
      - name: b1
        address: 127.0.0.1:${b.port}
      - name: c1
        address: 127.0.0.1:${c.port}
routes:
  - path: /
    service: svc
`)
    await lb.port('web')
    await lb.waitFor((l) => l.msg === 'server is DOWN' && l.server === 'svc/c1', 'c1 down')
    await lb.p.setServerState('svc', 'a1', 'drain')
    assert.equal(await lb.p.restartWorkers(), true)
    // The two replacements (cluster ids 3 and 4) are the only workers now.
    await lb.waitFor((l) => l.msg === 'workers restarted', 'restart')
    const port = await lb.port('web')
    const before = { a: served(a), c: served(c) }
    for (let i = 0; i < 40; i++) assert.equal((await fetchOnce(port, '/')).body, 'b')
    assert.deepEqual({ a: served(a), c: served(c) }, before)
    // The new workers took the verdict from the primary instead of checking themselves.
    for (const w of [3, 4])
      assert.equal(
        lb.count((l) => l.worker === w && l.msg === 'server is DOWN'),
        0,
        `worker ${w}`,
      )
  } finally {
    await lb?.stop()
    await a.close()
    await b.close()
    await c.close()
  }
})
