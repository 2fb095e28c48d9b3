/**
 * Cluster mode (workers: 2): active checks run once, in the primary. The check port sees one checker's cadence
 * (three checkers — primary and two workers — would triple it), and when it stops accepting the server is
 * marked down in every worker: no request goes to it any more.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createServer, type AddressInfo } from 'node:net'
import { Daemon, configHead, fetchOnce } from '../helpers/daemon.js'
import { startUpstream } from '../helpers/upstream.js'

const inter = 100

test('cluster: one process checks; a server whose check fails is down in every worker', async () => {
  let checks = 0
  let onCheck = (): void => {}
  const checkPort = createServer((s) => {
    checks++
    onCheck()
    s.destroy()
  })
  await new Promise<void>((resolve) => checkPort.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const a = await startUpstream('a')
  const b = await startUpstream('b')
  const lb = await Daemon.start(`
${configHead()}services:
  - name: svc
    balance: roundrobin
    check:
      type: tcp
      inter: ${inter}ms
      fall: 2
      rise: 2
      port: ${(checkPort.address() as AddressInfo).port}
    servers:
      - name: a1
        address: 127.0.0.1:${a.port}
      - name: b1
        address: 127.0.0.1:${b.port}
        check: false
routes:
  - path: /
    service: svc
`)
  try {
    const port = await lb.port('web')
    // Ten checks take at least nine intervals when only one process checks (fixed cadence, no catch-up bursts).
    const start = performance.now()
    const from = checks
    await new Promise<void>((resolve) => {
      onCheck = () => {
        if (checks >= from + 10) resolve()
      }
    })
    const elapsed = performance.now() - start
    assert.ok(elapsed >= 9 * inter - 20, `10 checks in ${elapsed.toFixed(0)} ms: more than one checker`)
    // Both servers take traffic while the check passes.
    for (let i = 0; i < 20; i++) assert.equal((await fetchOnce(port, '/')).status, 200)
    assert.ok(a.requests.length > 0, 'a served nothing while up')

    await new Promise<void>((resolve) => checkPort.close(() => resolve()))
    await lb.waitFor((l) => l.msg === 'server is DOWN' && l.server === 'svc/a1', 'a1 down in the primary')
    for (const w of [1, 2])
      await lb.waitFor(
        (l) => l.msg === 'server verdict from primary' && l.worker === w && l.up === false,
        `a1 down in worker ${w}`,
      )
    const before = a.requests.length
    for (let i = 0; i < 40; i++) assert.equal((await fetchOnce(port, '/')).body, 'b')
    assert.equal(a.requests.length, before, 'a down server still got requests')
    // Only the primary logs the transition.
    assert.equal(
      lb.count((l) => l.msg === 'server is DOWN'),
      1,
    )
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    if (checkPort.listening) checkPort.close()
    await a.close()
    await b.close()
  }
})
