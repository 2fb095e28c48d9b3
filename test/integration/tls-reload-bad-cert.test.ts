/**
 * A reload whose new certificate does not match its key fails like any invalid reload: the daemon keeps serving
 * the old certificate.
 */
import assert from 'node:assert/strict'
import { copyFileSync } from 'node:fs'
import { test } from 'node:test'
import { X509Certificate } from 'node:crypto'
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

test('a mismatched new certificate: reload refused, the old certificate still served', async () => {
  const d = certDir()
  const first = makeCert(d.dir, { names: ['site.test'], base: 'first' })
  const second = makeCert(d.dir, { names: ['site.test'], base: 'second' })
  const { cert, key } = servedCopy(d.dir, first)
  const up = await startUpstream('a')
  const yaml = clusterConfig({
    workers: 1,
    upstream: up.port,
    listener: tlsListenerLines([certificatesLine(cert, key)]),
  })
  const lb = await Daemon.start(yaml)
  try {
    const port = await lb.port('web')
    copyFileSync(second.cert, cert)
    lb.signal('SIGHUP')
    const failed = await lb.waitFor(
      (l) => l.msg === 'reload failed: keeping the running configuration',
      'reload failure',
    )
    assert.match(
      JSON.stringify(failed.problems),
      /listeners\[0\]\.tls\.certificates\[0\]\.key_file: .*site\.key: the key does not match the certificate in .*site\.crt/,
    )
    const served = await peerCertificate(port, 'site.test')
    assert.equal(served.fingerprint256, new X509Certificate(first.pem).fingerprint256)
    assert.equal((await httpsGet(port, '/', { host: 'site.test' })).status, 200)
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await up.close()
    d.remove()
  }
})
