/** A client that goes away mid-response aborts the upstream request; that connection is not reused. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import type { ServerResponse } from 'node:http'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('client abort mid-response closes the upstream connection', async () => {
  let upstreamClosed!: () => void
  const closed = new Promise<void>((r) => (upstreamClosed = r))
  let streaming: ServerResponse | null = null
  const up = await startUpstream('u', (req, res, name) => {
    req.resume()
    if (req.url === '/stream') {
      streaming = res
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(Buffer.alloc(16 * 1024, 1))
      res.on('close', () => upstreamClosed())
      return // never ends on its own
    }
    res.end(name)
  })
  const lb = await startLb((c) => {
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: lb.port, path: '/stream' }, (res) => {
        res.once('data', () => {
          req.destroy()
          resolve()
        })
      })
      req.on('error', () => undefined)
      req.on('close', () => resolve())
      req.end()
      void reject
    })
    await closed
    assert.ok(streaming !== null)
    const socketsBefore = up.sockets.size
    const r = await get(lb.url, '/after')
    assert.equal(r.status, 200)
    assert.equal(up.sockets.size, socketsBefore + 1, 'the aborted connection must not be reused')
    const line = lb.access.find((l) => l.uri === '/stream')
    assert.equal(line?.ts, 'CD')
  } finally {
    await lb.close()
    await up.close()
  }
})
