/** `h2c: true`: a plain listener takes HTTP/2 with prior knowledge and HTTP/1.1 on the same port; off by default. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { closeSession, h2Connect, h2Request } from '../helpers/h2.js'

function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port })
    let got = ''
    s.on('data', (d: Buffer) => (got += d.toString('latin1')))
    s.on('close', () => resolve(got))
    s.on('error', reject)
    s.write(bytes)
  })
}

test('h2c listener: HTTP/2 by preface and HTTP/1.1 side by side; without h2c the preface gets 400', async () => {
  const up = await startUpstream('u')
  const withH2c = await startLb((c) => {
    const l = c.listeners[0]
    if (l !== undefined && l.mode === 'http') l.h2c = true
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  const without = await startLb((c) => {
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const session = await h2Connect(withH2c.port, false)
    const r = await h2Request(session, { ':path': '/p', ':authority': 'site.test' })
    assert.equal(r.status, 200)
    assert.equal(r.body, 'u')
    await closeSession(session)
    const h1 = await rawExchange(withH2c.port, 'GET /q HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
    assert.match(h1, /^HTTP\/1\.1 200 OK\r\n/)
    assert.deepEqual(
      up.requests.map((q) => q.url),
      ['/p', '/q'],
    )
    const refused = await rawExchange(without.port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
    assert.match(refused, /^HTTP\/1\.1 400 /)
    // Upgrade: h2c stays a plain HTTP/1.1 request.
    const upgrade = await rawExchange(
      withH2c.port,
      'GET /u HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
    )
    assert.match(upgrade, /^HTTP\/1\.1 200 OK\r\n/)
    assert.equal(up.requests.at(-1)?.headers.upgrade, undefined)
  } finally {
    await withH2c.close()
    await without.close()
    await up.close()
  }
})
