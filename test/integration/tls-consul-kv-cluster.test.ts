/**
 * Certificates from Consul KV in cluster mode (workers: 2, the built binary): the primary reads the prefix before
 * the workers open the listener, so the first handshakes already get the KV certificate, and a new pair written
 * to KV reaches every worker (the PEM travels with the config; no file is written).
 */
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { Daemon } from '../helpers/daemon.js'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { certDir, makeCert, peerCertificate, tlsDaemonYaml, type CertFiles } from '../helpers/certs.js'

/** The fingerprints lb presents on `n` new connections, deduplicated. */
async function served(port: number, n: number): Promise<string[]> {
  const out = new Set<string>()
  for (let i = 0; i < n; i++) out.add((await peerCertificate(port, 'site.test')).fingerprint256)
  return [...out]
}

test('cluster: the KV certificate serves from the first handshake and a new one reaches every worker', async () => {
  const d = certDir()
  const first = makeCert(d.dir, { names: ['site.test'], base: 'first' })
  const second = makeCert(d.dir, { names: ['site.test'], base: 'second', type: 'ec' })
  const consul = await ConsulTestServer.start()
  const put = (c: CertFiles): void => {
    consul.putKv('lb/certs/site.pem', readFileSync(c.cert, 'utf8') + readFileSync(c.key, 'utf8'))
  }
  put(first)
  const lb = await Daemon.start(
    tlsDaemonYaml(2, ['consul_kv: lb/certs'], `consul:\n  addresses: ["${consul.address}"]\n`),
  )
  try {
    const port = await lb.port('web')
    assert.deepEqual(await served(port, 20), [new X509Certificate(first.pem).fingerprint256])
    put(second)
    await lb.waitFor((l) => l.msg === 'TLS certificates reloaded from Consul KV', 'KV certificates applied')
    assert.deepEqual(await served(port, 20), [new X509Certificate(second.pem).fingerprint256])
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await consul.close()
    d.remove()
  }
})
