/**
 * Consul unreachable when lb starts with a `consul_kv` listener: lb starts at once (a refused connection is the
 * prefix's first answer), refuses handshakes while it has no certificate, and serves the KV certificate once
 * Consul answers. In-process Primary with `workers: 0`.
 */
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { CapturedLog } from '../helpers/log-lines.js'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { certDir, makeCert, peerCertificate, tlsDaemonYaml, startTlsPrimary } from '../helpers/certs.js'

/** A loopback port nothing listens on (bound, then closed). */
async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise((resolve) => s.close(resolve))
  return port
}

test('a consul_kv listener starts without Consul and serves the certificate once Consul answers', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const consulPort = await freePort()
  const rest = `consul:\n  addresses: ["127.0.0.1:${consulPort}"]\n  backoff: { min: 50ms, max: 200ms }\n`
  const yaml = tlsDaemonYaml(0, ['consul_kv: lb/certs'], rest)
  const captured = new CapturedLog()
  const { primary, port, fingerprint } = await startTlsPrimary(yaml, captured.log)
  let consul: ConsulTestServer | undefined
  try {
    await assert.rejects(peerCertificate(port, 'site.test'), 'no certificate: no handshake')
    consul = await ConsulTestServer.start(consulPort)
    consul.putKv('lb/certs/site.crt', readFileSync(cert.cert, 'utf8'))
    consul.putKv('lb/certs/site.key', readFileSync(cert.key, 'utf8'))
    const want = new X509Certificate(cert.pem).fingerprint256
    // The watch retries within `backoff.max`; the pair then applies like any KV change.
    await captured.waitFor((l) => l.msg === 'TLS certificates reloaded from Consul KV', 'the pair applied')
    const got = await fingerprint()
    assert.equal(got, want)
  } finally {
    await primary.stop(1_000)
    await consul?.close()
    d.remove()
  }
})
