/**
 * Uploads that stall mid-body hold server connections; a request that finds the pool full waits at most
 * `timeouts.queue` and gets 503 `sQ`; the stalled uploads end after `timeouts.client` and the pool and fds come
 * back, after which requests are served again.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route, until } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { fdCount, settle } from './upstream-raw.js'

test('stalled bodies: a waiting request gets 503 sQ after timeouts.queue; all recovers after timeouts.client', async () => {
  const up = await startUpstream('u', (req, res) => {
    req.resume()
    req.on('end', () => res.end('ok'))
  })
  const lb = await startLb((c) => {
    c.http.timeouts.client = 1_000
    const svc = service('svc', [up.port], { maxConnections: 2 })
    svc.timeouts = { ...svc.timeouts, queue: 300 }
    c.services = [svc]
    c.routes = [route('', '/', 'svc')]
  })
  const stalled: Socket[] = []
  try {
    assert.equal((await get(lb.url, '/warm')).status, 200)
    await settle()
    const fdsBefore = fdCount()
    for (let i = 0; i < 2; i++) {
      const s = connect({ host: '127.0.0.1', port: lb.port })
      s.on('error', () => undefined)
      await once(s, 'connect')
      s.write('POST /upload HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1000\r\n\r\nx')
      stalled.push(s)
    }
    await until(() => up.requests.filter((r) => r.url === '/upload').length === 2, 'uploads at the server')
    const started = performance.now()
    const r = await get(lb.url, '/waits')
    const waited = performance.now() - started
    assert.equal(r.status, 503)
    assert.equal(lb.access.find((l) => l.uri === '/waits')?.ts, 'sQ')
    assert.ok(waited >= 290 && waited < 1_000, `answered after ${waited} ms`)
    // The stalled uploads end at timeouts.client: their connections (client and server side) close.
    await Promise.all(stalled.map((s) => once(s, 'close')))
    await until(() => fdCount() <= fdsBefore + 2, `fds back near ${fdsBefore} (now ${fdCount()})`)
    assert.equal((await get(lb.url, '/after')).status, 200)
  } finally {
    for (const s of stalled) s.destroy()
    await lb.close()
    await up.close()
  }
})
