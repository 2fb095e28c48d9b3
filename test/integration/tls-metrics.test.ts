/**
 * Admin /metrics (cluster mode, the built binary): `lb_tls_certificate_expiry_timestamp_seconds` has each TLS
 * listener certificate's notAfter, and follows a certificate replaced by a reload.
 */
import assert from 'node:assert/strict'
import { copyFileSync } from 'node:fs'
import { test } from 'node:test'
import { X509Certificate } from 'node:crypto'
import { Daemon, clusterConfig, fetchOnce } from '../helpers/daemon.js'
import { deadPort, startUpstream } from '../helpers/upstream.js'
import { certDir, makeCert, certificatesLine, servedCopy, tlsListenerLines } from '../helpers/certs.js'

function notAfter(pem: string): number {
  return Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000)
}

test('certificate expiry gauge per listener certificate, updated by a reload', async () => {
  const d = certDir()
  const short = makeCert(d.dir, { names: ['site.test'], days: 20, base: 'short' })
  const long = makeCert(d.dir, { names: ['site.test'], days: 90, base: 'long' })
  const { cert, key } = servedCopy(d.dir, short)
  const up = await startUpstream('a')
  const admin = await deadPort()
  const yaml = clusterConfig({
    admin: `127.0.0.1:${admin}`,
    upstream: up.port,
    listener: tlsListenerLines([certificatesLine(cert, key)]),
  })
  const lb = await Daemon.start(yaml)
  const series = `lb_tls_certificate_expiry_timestamp_seconds{listener="web",name="site.test",file="${cert}"}`
  const value = async (): Promise<number | undefined> => {
    const text = (await fetchOnce(admin, '/metrics')).body
    const line = text.split('\n').find((l) => l.startsWith(series + ' '))
    return line === undefined ? undefined : Number(line.slice(series.length + 1))
  }
  try {
    assert.equal(await value(), notAfter(short.pem))
    copyFileSync(long.key, key)
    copyFileSync(long.cert, cert)
    lb.signal('SIGHUP')
    await lb.waitFor((l) => l.msg === 'configuration reloaded', 'reload')
    assert.equal(await value(), notAfter(long.pem))
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await up.close()
    d.remove()
  }
})
