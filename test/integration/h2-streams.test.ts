/** HTTP/2 over TLS (ALPN h2): many concurrent streams on one connection to two routes and their services. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, makeCert, tlsConfig, useTls } from '../helpers/certs.js'
import { closeSession, h2Connect, h2Request } from '../helpers/h2.js'

test('200 streams on one h2 connection reach two services by route, with the access line', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const a = await startUpstream('a')
  const b = await startUpstream('b')
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    c.services = [service('sa', [a.port]), service('sb', [b.port])]
    c.routes = [route('site.test', '/a', 'sa'), route('site.test', '/b', 'sb')]
  })
  const session = await h2Connect(lb.port)
  try {
    assert.equal(session.alpnProtocol, 'h2')
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        h2Request(session, { ':path': i % 2 === 0 ? `/a/${i}` : `/b/${i}`, ':authority': 'site.test' }),
      ),
    )
    for (let i = 0; i < answers.length; i++) {
      const r = answers[i]
      assert.equal(r?.status, 200)
      assert.equal(r?.body, i % 2 === 0 ? 'a' : 'b')
      assert.equal(r?.headers['x-upstream'], i % 2 === 0 ? 'a' : 'b')
      assert.equal(r?.headers.connection, undefined)
    }
    assert.equal(a.requests.length, 100)
    assert.equal(b.requests.length, 100)
    const seen = a.requests[0]
    assert.equal(seen?.headers.host, 'site.test')
    assert.equal(seen?.headers['x-forwarded-proto'], 'https')
    assert.match(String(seen?.headers.forwarded), /httpproto=http\/2\.0/)
    assert.equal(lb.access.length, 200)
    assert.ok(lb.access.every((l) => l.status === 200 && l.ts === '--' && l.hv === '2.0'))
  } finally {
    await closeSession(session)
    await lb.close()
    await a.close()
    await b.close()
    d.remove()
  }
})
