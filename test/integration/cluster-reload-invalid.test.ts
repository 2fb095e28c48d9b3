/**
 * A broken config on reload: the old config keeps serving, every problem is logged and the failure counted;
 * `lb reload` (admin API with the token) exits 1 with the problems, and 0 once the config is fixed.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Daemon, fetchOnce, clusterConfig } from '../helpers/daemon.js'
import { runLb, type CliResult } from '../helpers/process.js'
import { deadPort, startUpstream } from '../helpers/upstream.js'

const lbReload = (file: string): Promise<CliResult> => runLb(['reload', '--config', file])

test('cluster: reload with a broken config keeps the old one serving and reports it', async () => {
  const a = await startUpstream('a')
  const adminPort = await deadPort()
  const good = (path: string): string =>
    clusterConfig({ upstream: a.port, path, admin: `127.0.0.1:${adminPort}`, token: 'test-token' })
  const lb = await Daemon.start(good('/'))
  try {
    await lb.waitFor((l) => l.msg === 'admin listening', 'admin')
    const port = await lb.port('web')
    assert.equal((await fetchOnce(port, '/x')).body, 'a')

    // Broken: an unknown service and a bad duration. The daemon's copy is what SIGHUP re-reads.
    await lb.rewrite(good('/') + 'shutdown:\n  timeout: soon\n' + 'routes_typo: 1\n')
    lb.signal('SIGHUP')
    const failed = await lb.waitFor(
      (l) => l.msg === 'reload failed: keeping the running configuration',
      'fail',
    )
    const problems = failed.problems as string[]
    assert.equal(problems.length, 2, problems.join('\n'))
    assert.match(problems.join('\n'), /shutdown\.timeout/)
    assert.match(problems.join('\n'), /routes_typo: unknown key/)
    assert.equal(failed.failedReloads, 1)
    for (let i = 0; i < 4; i++) assert.equal((await fetchOnce(port, '/x')).body, 'a')

    // `lb reload` validates locally first: exit 1, nothing sent.
    const local = await lbReload(lb.file)
    assert.equal(local.code, 1, local.out)
    assert.match(local.out, /shutdown\.timeout/)

    // Valid again: `lb reload` goes through the admin API and reports success.
    await lb.rewrite(good('/only'))
    const fixed = await lbReload(lb.file)
    assert.equal(fixed.code, 0, fixed.out)
    assert.equal((await fetchOnce(port, '/x')).status, 404)
    assert.equal((await fetchOnce(port, '/only')).body, 'a')
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await a.close()
  }
})
