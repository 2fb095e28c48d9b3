/**
 * HTTP/2 bodies both ways: `expect: 100-continue` gets a 100 before the body is sent, the chunked server response's
 * trailers reach the client as HTTP/2 trailers, and a HEAD answer has no body.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { closeSession, h2Connect, h2Request } from '../helpers/h2.js'

test('h2: 100-continue, response trailers, HEAD', async () => {
  const up = await startUpstream('u', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (d: Buffer) => chunks.push(d))
    req.on('end', () => {
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 9 })
        res.end()
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-sum' })
      res.write('got ')
      res.addTrailers({ 'x-sum': 'abc' })
      res.end(Buffer.concat(chunks))
    })
  })
  const lb = await startLb((c) => {
    const l = c.listeners[0]
    if (l !== undefined && l.mode === 'http') l.h2c = true
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  const session = await h2Connect(lb.port, false)
  try {
    const body = await new Promise<{ continued: boolean; text: string; trailers: unknown }>(
      (resolve, reject) => {
        const req = session.request({ ':method': 'POST', ':path': '/c', expect: '100-continue' })
        let continued = false
        let text = ''
        let trailers: unknown = null
        // The body goes out only once lb said 100.
        req.on('continue', () => {
          continued = true
          req.end('hello')
        })
        req.on('data', (d: Buffer) => (text += d.toString()))
        req.on('trailers', (t) => (trailers = t))
        req.on('end', () => resolve({ continued, text, trailers }))
        req.on('error', reject)
      },
    )
    assert.equal(body.continued, true)
    assert.equal(body.text, 'got hello')
    assert.equal((body.trailers as Record<string, string>)['x-sum'], 'abc')
    const head = await h2Request(session, { ':method': 'HEAD', ':path': '/h' })
    assert.equal(head.status, 200)
    assert.equal(head.body, '')
  } finally {
    await closeSession(session)
    await lb.close()
    await up.close()
  }
})
