/**
 * Session resumption across worker processes and reloads (workers: 2, the built binary): every worker derives
 * the same ticket key from the primary's secret (src/proxy/ticket-keys.ts), so new connections presenting one
 * session resume whichever worker accepts them, over TLS 1.2 and TLS 1.3, before and after a reload.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Daemon } from '../helpers/daemon.js'
import {
  certDir,
  certificatesLine,
  makeCert,
  tlsDaemonYaml,
  tlsHandshake,
  type TlsVersionName,
} from '../helpers/certs.js'

function config(cert: string, key: string, comment: string): string {
  return `# ${comment}\n` + tlsDaemonYaml(2, [certificatesLine(cert, key)])
}

/** How many of `n` new connections presenting `session` resumed it. */
async function resumed(port: number, version: TlsVersionName, session: Buffer, n: number): Promise<number> {
  let count = 0
  for (let i = 0; i < n; i++) if ((await tlsHandshake(port, version, session)).reused) count++
  return count
}

test('cluster: new connections resume one session on every worker, across a reload', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'], type: 'ec' })
  const lb = await Daemon.start(config(cert.cert, cert.key, 'first'))
  try {
    const port = await lb.port('web')
    const sessions = new Map<TlsVersionName, Buffer>()
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const first = await tlsHandshake(port, version)
      assert.equal(first.reused, false)
      sessions.set(version, first.session)
      assert.equal(await resumed(port, version, first.session, 10), 10, `${version}: all 10 resumed`)
    }
    await lb.rewrite(config(cert.cert, cert.key, 'second'))
    lb.signal('SIGHUP')
    await lb.waitFor((l) => l.msg === 'configuration reloaded', 'reload')
    for (const [version, session] of sessions)
      assert.equal(await resumed(port, version, session, 10), 10, `${version} after the reload`)
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    d.remove()
  }
})
