/**
 * A valid config that a worker cannot apply (a new listener on a port something else holds): the reload
 * reports failure — `lb reload` exits 1 with the worker's reason (admin 422) — instead of ok, and the running
 * listeners keep serving.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createServer, type AddressInfo } from 'node:net'
import { Daemon, fetchOnce, clusterConfig } from '../helpers/daemon.js'
import { runLb, type CliResult } from '../helpers/process.js'
import { deadPort, startUpstream } from '../helpers/upstream.js'

const lbReload = (file: string): Promise<CliResult> => runLb(['reload', '--config', file])

test('cluster: a reload the workers cannot apply is reported as failed', async () => {
  const a = await startUpstream('a')
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const takenPort = (taken.address() as AddressInfo).port
  const adminPort = await deadPort()
  const base = clusterConfig({ upstream: a.port, admin: `127.0.0.1:${adminPort}`, token: 'test-token' })
  let lb: Daemon | null = null
  try {
    lb = await Daemon.start(base)
    await lb.waitFor((l) => l.msg === 'admin listening', 'admin')
    const port = await lb.port('web')

    await lb.rewrite(
      base.replace('services:', `  - name: busy\n    address: 127.0.0.1:${takenPort}\nservices:`),
    )
    const r = await lbReload(lb.file)
    assert.equal(r.code, 1, r.out)
    assert.match(r.out, /HTTP 422/)
    assert.match(r.out, /worker \d+ failed to apply version \d+: .*EADDRINUSE/)
    const failed = await lb.waitFor(
      (l) => l.msg === 'reload failed: not every worker applied the new configuration',
      'reload failure logged',
    )
    assert.equal(failed.failedReloads, 1)
    assert.equal(
      lb.count((l) => l.msg === 'configuration reloaded'),
      0,
    )
    for (let i = 0; i < 4; i++) assert.equal((await fetchOnce(port, '/')).body, 'a')
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb !== null && lb.child.exitCode === null) lb.child.kill('SIGKILL')
    taken.close()
    await a.close()
  }
})
