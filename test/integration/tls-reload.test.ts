/**
 * Cluster mode (workers: 2, the built binary): the certificate files change and SIGHUP → new handshakes get the
 * new certificate (each worker reads the files itself), while an HTTPS request loop keeps getting 200.
 */
import assert from 'node:assert/strict'
import { copyFileSync } from 'node:fs'
import { test } from 'node:test'
import { Daemon, clusterConfig } from '../helpers/daemon.js'
import { startUpstream } from '../helpers/upstream.js'
import {
  certDir,
  httpsGet,
  makeCert,
  peerCertificate,
  certificatesLine,
  servedCopy,
  tlsListenerLines,
} from '../helpers/certs.js'
import { X509Certificate } from 'node:crypto'

test('cluster: a changed certificate applies to new handshakes on SIGHUP, no request fails', async () => {
  const d = certDir()
  const first = makeCert(d.dir, { names: ['site.test'], base: 'first' })
  const second = makeCert(d.dir, { names: ['site.test'], base: 'second' })
  const { cert, key } = servedCopy(d.dir, first)
  const up = await startUpstream('a')
  const yaml = clusterConfig({ upstream: up.port, listener: tlsListenerLines([certificatesLine(cert, key)]) })
  const lb = await Daemon.start(yaml)
  let running = true
  const failed: string[] = []
  let ok = 0
  const loop = async (port: number): Promise<void> => {
    while (running) {
      try {
        const r = await httpsGet(port, '/', { host: 'site.test' })
        if (r.status === 200) ok++
        else failed.push(String(r.status))
      } catch (err) {
        failed.push((err as NodeJS.ErrnoException).code ?? String(err))
      }
    }
  }
  try {
    const port = await lb.port('web')
    const fingerprint = async (): Promise<string> => (await peerCertificate(port, 'site.test')).fingerprint256
    assert.equal(await fingerprint(), new X509Certificate(first.pem).fingerprint256)
    const loops = [loop(port), loop(port), loop(port)]
    while (ok < 20) await httpsGet(port, '/', { host: 'site.test' })
    copyFileSync(second.key, key)
    copyFileSync(second.cert, cert)
    lb.signal('SIGHUP')
    await lb.waitFor((l) => l.msg === 'configuration reloaded', 'reload')
    // Both workers: several fresh handshakes all see the new certificate.
    for (let i = 0; i < 6; i++)
      assert.equal(await fingerprint(), new X509Certificate(second.pem).fingerprint256)
    const before = ok
    while (ok < before + 20) await httpsGet(port, '/', { host: 'site.test' })
    running = false
    await Promise.all(loops)
    assert.deepEqual(failed, [], `failed requests after ${ok} successes`)
    assert.equal(await lb.stop(), 0)
  } finally {
    running = false
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await up.close()
    d.remove()
  }
})
