/** accept_proxy on an HTTPS listener: the PROXY header comes first, then the TLS handshake on the same bytes. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect as netConnect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, makeCert, tlsConfig, useTls } from '../helpers/certs.js'

test('the client named by the PROXY header before the handshake is the request client', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    const l = c.listeners[0]
    if (l?.mode === 'http') l.acceptProxy = true
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const raw = netConnect({ host: '127.0.0.1', port: lb.port })
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()))
    raw.write('PROXY TCP4 198.51.100.7 10.0.0.1 40000 443\r\n')
    const s = tlsConnect({ socket: raw, servername: 'site.test', rejectUnauthorized: false })
    const answer = await new Promise<string>((resolve, reject) => {
      let text = ''
      s.once('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n'))
      s.on('data', (b: Buffer) => (text += b.toString('latin1')))
      s.on('end', () => resolve(text))
      s.on('error', reject)
    })
    assert.match(answer, /^HTTP\/1\.1 200 /)
    const h = up.requests[0]?.headers
    assert.equal(h?.['x-forwarded-for'], '198.51.100.7')
    assert.equal(h?.['x-forwarded-proto'], 'https')
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
})
