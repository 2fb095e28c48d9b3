/** An RSA and an ECDSA certificate for the same name are both served: the client's algorithms pick. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, makeCert, peerCertificate, tlsConfig, useTls } from '../helpers/certs.js'

test('RSA and ECDSA side by side: each client gets the key type it can use', async () => {
  const d = certDir()
  const rsa = makeCert(d.dir, { names: ['site.test'], base: 'rsa' })
  const ec = makeCert(d.dir, { names: ['site.test'], type: 'ec', base: 'ec' })
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([rsa, ec]))
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const ecdsaOnly = await peerCertificate(lb.port, 'site.test', {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    })
    assert.equal(ecdsaOnly.asn1Curve, 'prime256v1', 'an ECDSA-only client gets the ECDSA certificate')
    assert.equal(ecdsaOnly.fingerprint256, fingerprint(ec.pem))
    const rsaOnly = await peerCertificate(lb.port, 'site.test', {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
    })
    assert.equal(rsaOnly.bits, 2048, 'an RSA-only client gets the RSA certificate')
    assert.equal(rsaOnly.fingerprint256, fingerprint(rsa.pem))
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
})

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256
}
