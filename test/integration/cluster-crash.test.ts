/**
 * kill -9 of one worker under load: only requests that worker had in flight fail (at most one per client
 * loop; a connection per request, so a failure is always that request's own), the primary logs the cause and
 * replaces it, and the new worker serves.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Daemon, fetchOnce, startLoad, clusterConfig } from '../helpers/daemon.js'
import { startUpstream } from '../helpers/upstream.js'

test('cluster: a worker killed with SIGKILL is replaced; only its in-flight requests fail', async () => {
  const a = await startUpstream('a')
  const lb = await Daemon.start(clusterConfig({ upstream: a.port }))
  try {
    const port = await lb.port('web')
    const ready = await lb.waitFor((l) => l.msg === 'workers ready', 'ready')
    const victim = (ready.pids as number[])[0] as number
    const concurrency = 6
    // A connection per request: a failure is always a request the dead worker had accepted.
    const load = startLoad(port, '/', { concurrency, timeout: 2_000 })
    await load.succeeded(50)
    process.kill(victim, 'SIGKILL')
    const died = await lb.waitFor((l) => l.msg === 'worker died; replacing it', 'worker died')
    assert.equal(died.workerPid, victim)
    assert.equal(died.signal, 'SIGKILL')
    // The replacement (cluster worker id 3) listens again.
    await lb.waitFor((l) => l.msg === 'listening' && l.worker === 3, 'replacement listening')
    await load.succeeded(50)
    const r = await load.stop()
    assert.ok(r.failed.length <= concurrency, `failed: ${r.failed.join(', ')}`)
    // TIMEOUT: with cluster's round-robin handoff, a connection the primary was passing to the worker as it
    // died stays open in the primary and is never answered (a Node limitation, not seen with reusePort).
    for (const f of r.failed) assert.match(f, /^(ECONNRESET|EPIPE|TIMEOUT)$/)
    assert.equal((await fetchOnce(port, '/')).body, 'a')
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await a.close()
  }
})
