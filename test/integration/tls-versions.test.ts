/** HTTPS listeners refuse TLS 1.1 by default and honour `min_version`. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, makeCert, peerCertificate, tlsConfig, useTls } from '../helpers/certs.js'
import { connect } from 'node:tls'

/** The protocol negotiated by a client limited to [min, max], or the handshake error's message. */
function handshake(
  port: number,
  minVersion: 'TLSv1.1' | 'TLSv1.2',
  maxVersion: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3',
): Promise<string> {
  return new Promise((resolve) => {
    // TLS 1.1 needs OpenSSL security level 0 on the client side to be offered at all.
    const ciphers = maxVersion === 'TLSv1.1' ? 'DEFAULT:@SECLEVEL=0' : 'DEFAULT'
    const s = connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      servername: 'site.test',
      minVersion,
      maxVersion,
      ciphers,
    })
    s.once('secureConnect', () => {
      resolve(s.getProtocol() ?? '?')
      s.destroy()
    })
    s.once('error', (err) => resolve(`error: ${err.message}`))
  })
}

test('TLS 1.1 is refused by default; TLS 1.2 and 1.3 are accepted', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    assert.match(await handshake(lb.port, 'TLSv1.1', 'TLSv1.1'), /^error: /)
    assert.equal(await handshake(lb.port, 'TLSv1.2', 'TLSv1.2'), 'TLSv1.2')
    assert.equal(await handshake(lb.port, 'TLSv1.2', 'TLSv1.3'), 'TLSv1.3')
    assert.equal((await peerCertificate(lb.port, 'site.test')).subject.CN, 'site.test')
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
})

test('min_version TLS1.3 refuses a TLS 1.2 client', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert], { min_version: 'TLS1.3' }))
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    assert.match(await handshake(lb.port, 'TLSv1.2', 'TLSv1.2'), /^error: /)
    assert.equal(await handshake(lb.port, 'TLSv1.2', 'TLSv1.3'), 'TLSv1.3')
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
})
