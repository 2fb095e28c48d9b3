/**
 * Cluster mode (workers: 2): passive health (observe layer7) seen in the workers is reported to the primary,
 * which counts the errors of all workers together (error_limit 3), marks the server down once and sends the
 * verdict to every worker.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Daemon, configHead, fetchOnce } from '../helpers/daemon.js'
import { startUpstream } from '../helpers/upstream.js'

test('cluster: passive errors from the workers mark the server down in every worker', async () => {
  const flaky = await startUpstream('flaky', (req, res) => {
    req.resume()
    res.writeHead(500)
    res.end('flaky')
  })
  const good = await startUpstream('good')
  let lb: Daemon | null = null
  try {
    lb = await Daemon.start(`
${configHead()}services:
  - name: svc
    balance: first
    check:
      type: tcp
      inter: 60s
      init_state: fully-up
    observe: layer7
    error_limit: 3
    on_error: mark-down
    servers:
      - name: flaky
        address: 127.0.0.1:${flaky.port}
      - name: good
        address: 127.0.0.1:${good.port}
routes:
  - path: /
    service: svc
`)
    const port = await lb.port('web')
    // Connection per request: the cluster spreads them over both workers, and the primary adds them up.
    for (let i = 0; i < 4; i++) await fetchOnce(port, '/')
    const down = await lb.waitFor((l) => l.msg === 'server is DOWN', 'flaky down in the primary')
    assert.equal(down.server, 'svc/flaky')
    assert.match(String(down.reason), /mark-down after 3 consecutive layer7 errors/)
    for (const w of [1, 2])
      await lb.waitFor(
        (l) => l.msg === 'server verdict from primary' && l.worker === w && l.up === false,
        `flaky down in worker ${w}`,
      )
    for (let i = 0; i < 20; i++) assert.equal((await fetchOnce(port, '/')).body, 'good')
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb !== null && lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await flaky.close()
    await good.close()
  }
})
