/**
 * Certificates from Consul KV (`tls.consul_kv`, fabio's `cs=consul`): a listener whose prefix is empty refuses
 * handshakes; a pair written to KV is served; a pair replaced under a bounded loop of HTTPS requests on new
 * connections fails none of them and new handshakes get the new certificate; a bad key written over it keeps
 * the serving certificate and is logged with the key. In-process Primary with `workers: 0` and lb's Consul test
 * server.
 */
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { startUpstream } from '../helpers/upstream.js'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { CapturedLog } from '../helpers/log-lines.js'
import {
  certDir,
  httpsLoop,
  makeCert,
  tlsDaemonYaml,
  type CertFiles,
  startTlsPrimary,
} from '../helpers/certs.js'

test('certificates from Consul KV are served, replaced without a failed request, and a bad one is kept out', async () => {
  const d = certDir()
  const first = makeCert(d.dir, { names: ['site.test'], base: 'first' })
  const second = makeCert(d.dir, { names: ['site.test'], base: 'second', type: 'ec' })
  const other = makeCert(d.dir, { names: ['site.test'], base: 'other' })
  const consul = await ConsulTestServer.start()
  const up = await startUpstream('a')
  const captured = new CapturedLog()
  const logged = (msg: string): number => captured.count((l) => l.msg === msg)
  const rest =
    `services:\n  - name: a\n    servers: [{ address: "127.0.0.1:${up.port}" }]\n` +
    `routes:\n  - path: /\n    service: a\nconsul:\n  addresses: ["${consul.address}"]\n`
  const yaml = tlsDaemonYaml(0, ['consul_kv: lb/certs'], rest)
  const { primary, port, fingerprint } = await startTlsPrimary(yaml, captured.log)
  const put = (c: CertFiles): void => {
    consul.putKv('lb/certs/site-cert.pem', readFileSync(c.cert, 'utf8'))
    consul.putKv('lb/certs/site-key.pem', readFileSync(c.key, 'utf8'))
  }
  const reloaded = 'TLS certificates reloaded from Consul KV'
  try {
    await assert.rejects(fingerprint(), 'no certificate in KV yet: no handshake')

    put(first)
    await captured.waitFor((l) => l.msg === reloaded, 'the first pair applied')
    const before = await fingerprint()
    assert.equal(before, new X509Certificate(first.pem).fingerprint256)

    const load = httpsLoop(port, 'site.test', 100)
    put(second)
    await captured.waitFor((l) => l.msg === reloaded, 'the second pair applied', 2)
    const after = await fingerprint()
    const { ok, failed } = await load
    assert.equal(failed, 0, `${failed} failed, ${ok} ok`)
    assert.equal(ok, 100)
    assert.equal(after, new X509Certificate(second.pem).fingerprint256)

    const refused = 'TLS certificates in Consul KV do not load: the ones serving stay'
    const refusals = logged(refused)
    consul.putKv('lb/certs/site-key.pem', readFileSync(other.key, 'utf8'))
    await captured.waitFor((l) => l.msg === refused, 'the bad key refused', refusals + 1)
    assert.equal(await fingerprint(), after)
    const problem = captured.lines.findLast((l) => l.msg === refused)
    assert.match(JSON.stringify(problem?.problems), /consul:lb\/certs\/site-key.pem: the key does not match/)
    assert.equal(logged(reloaded), 2)
  } finally {
    await primary.stop(1_000)
    await up.close()
    await consul.close()
    d.remove()
  }
})
