/** Drain: on shutdown an HTTP/2 session gets GOAWAY, its in-flight stream finishes, then the connection closes. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route, until } from '../helpers/lb.js'
import { certDir, makeCert, tlsConfig, useTls } from '../helpers/certs.js'
import { h2Connect, h2Request } from '../helpers/h2.js'

test('shutdown: GOAWAY to the h2 client, the request in flight completes', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  let held: ServerResponse | null = null
  const up = await startUpstream('u', (req, res) => {
    req.resume()
    held = res
  })
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  const session = await h2Connect(lb.port)
  try {
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)))
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()))
    const answer = h2Request(session, { ':path': '/slow' })
    await until(() => held !== null, 'the request upstream')
    const stopping = lb.close()
    assert.equal(await goaway, 0, 'GOAWAY NO_ERROR')
    ;(held as ServerResponse | null)?.end('done')
    const r = await answer
    assert.equal(r.status, 200)
    assert.equal(r.body, 'done')
    await closed
    await stopping
  } finally {
    session.destroy()
    await up.close()
    d.remove()
  }
})
