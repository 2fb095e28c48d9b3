/**
 * Cluster mode (workers: 2, the built binary): 20 SIGHUP reloads under a bounded load, each with a different
 * config (the service behind / alternates, a route and a listener come and go) → zero failed requests.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Daemon, configHead, fetchOnce, startLoad } from '../helpers/daemon.js'
import { startUpstream } from '../helpers/upstream.js'

function config(a: number, b: number, i: number): string {
  const extra = i % 2 === 1
  return `
${configHead()}${extra ? '  - name: extra\n    address: 127.0.0.1:0\n' : ''}services:
  - name: a
    servers:
      - address: 127.0.0.1:${a}
  - name: b
    servers:
      - address: 127.0.0.1:${b}
routes:
  - path: /
    service: ${i % 2 === 0 ? 'a' : 'b'}
${extra ? `  - path: /v${i}\n    service: a\n` : ''}`
}

test('cluster: 20 reloads under load with a changing config fail no request', async () => {
  const a = await startUpstream('a')
  const b = await startUpstream('b')
  const lb = await Daemon.start(config(a.port, b.port, 0))
  try {
    const port = await lb.port('web')
    const load = startLoad(port, '/', { concurrency: 8 })
    await load.succeeded(50)
    const reloaded = (l: Record<string, unknown>): boolean => l.msg === 'configuration reloaded'
    for (let i = 1; i <= 20; i++) {
      await lb.rewrite(config(a.port, b.port, i))
      lb.signal('SIGHUP')
      await lb.waitFor(reloaded, `reload ${i}`, i)
      await load.succeeded(10)
    }
    const r = await load.stop()
    assert.deepEqual(r.failed, [], `failed requests after ${r.ok} successes`)
    assert.ok(r.ok >= 250, `only ${r.ok} requests`)
    // The last config (i = 20) routes / to a; both workers serve it.
    assert.equal((await fetchOnce(port, '/')).body, 'a')
    assert.equal(
      lb.count((l) => l.msg === 'reload failed: keeping the running configuration'),
      0,
    )
    // The odd reloads opened the "extra" listener in both workers and the even ones closed it again.
    assert.equal(
      lb.count((l) => l.msg === 'listening' && l.listener === 'extra'),
      20,
    )
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await a.close()
    await b.close()
  }
})
