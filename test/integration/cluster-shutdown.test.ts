/**
 * SIGTERM under load (cluster mode): /health fails first, requests keep being accepted during
 * `shutdown.grace`, every accepted request completes, and lb exits 0 within `shutdown.timeout`.
 * A second SIGTERM exits at once.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Daemon, fetchOnce, startLoad, clusterConfig } from '../helpers/daemon.js'
import { deadPort, startUpstream } from '../helpers/upstream.js'

function config(upstream: number, admin: number, timeout: string): string {
  return clusterConfig({
    upstream,
    admin: `127.0.0.1:${admin}`,
    extra: `shutdown:\n  grace: 300ms\n  timeout: ${timeout}`,
  })
}

test('cluster: SIGTERM during load completes every accepted request and exits 0', async () => {
  // /slow answers after 500 ms: in flight when the listeners close.
  const a = await startUpstream('a', (req, res) => {
    req.resume()
    const delay = req.url === '/slow' ? 500 : 0
    setTimeout(() => res.end('a'), delay)
  })
  const admin = await deadPort()
  const lb = await Daemon.start(config(a.port, admin, '5s'))
  try {
    await lb.waitFor((l) => l.msg === 'admin listening', 'admin')
    const port = await lb.port('web')
    assert.equal((await fetchOnce(admin, '/health')).status, 200)
    // A connection per request; a loop ends when lb no longer accepts: ECONNREFUSED, or ECONNRESET for a
    // connection that was still in the listen backlog (or in cluster's round-robin handoff queue) when the
    // listening socket closed, which no process had accepted. Requests lb accepted must all complete.
    const load = startLoad(port, '/', { concurrency: 6, stopOn: ['ECONNREFUSED', 'ECONNRESET'] })
    await load.succeeded(30)
    const slow = Array.from({ length: 6 }, () => fetchOnce(port, '/slow'))
    // Wait until the upstream has all six: they are in flight inside lb.
    while (a.requests.filter((q) => q.url === '/slow').length < 6) await new Promise((r) => setImmediate(r))
    const t0 = Date.now()
    lb.signal('SIGTERM')
    await lb.waitFor((l) => l.msg === 'draining', 'draining')
    assert.equal((await fetchOnce(admin, '/health')).status, 503)
    // Still accepting during the grace period.
    assert.equal((await fetchOnce(port, '/')).status, 200)
    const replies = await Promise.all(slow)
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    )
    assert.equal(await lb.exited, 0)
    assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`)
    const r = await load.stop()
    assert.deepEqual(r.failed, [], `after ${r.ok} successes`)
    assert.ok(r.stopped.length <= 6)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await a.close()
  }
})

test('cluster: a second SIGTERM exits at once', async () => {
  // Never answers: the first SIGTERM would wait the whole 60 s timeout.
  const a = await startUpstream('a', (req) => req.resume())
  const admin = await deadPort()
  const lb = await Daemon.start(config(a.port, admin, '60s'))
  try {
    const port = await lb.port('web')
    const hung = fetchOnce(port, '/').catch((err: NodeJS.ErrnoException) => err.code)
    while (a.requests.length === 0) await new Promise((r) => setImmediate(r))
    lb.signal('SIGTERM')
    await lb.waitFor((l) => l.msg === 'draining', 'draining')
    lb.signal('SIGTERM')
    assert.equal(await lb.exited, 0)
    assert.equal(await hung, 'ECONNRESET')
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await a.close()
  }
})
