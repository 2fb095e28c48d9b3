/** Keep-alive and a chunked request body through an HTTPS listener to a plain HTTP upstream. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Agent } from 'node:https'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, httpsGet, makeCert, tlsConfig, useTls } from '../helpers/certs.js'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Echoes the request body and how it was framed. */
function echo(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = []
  req.on('data', (d: Buffer) => chunks.push(d))
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8')
    res.writeHead(200, { 'x-te': req.headers['transfer-encoding'] ?? '', 'content-length': body.length })
    res.end(body)
  })
}

test('three requests on one TLS connection, one with a chunked body', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const up = await startUpstream('u', echo)
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  let sockets = 0
  const createConnection = agent.createConnection.bind(agent)
  agent.createConnection = (...args: Parameters<typeof createConnection>) => {
    sockets++
    return createConnection(...args)
  }
  try {
    const a = await httpsGet(lb.port, '/a', { host: 'site.test', agent })
    assert.equal(a.status, 200)
    const big = 'x'.repeat(100_000)
    const b = await httpsGet(lb.port, '/b', {
      host: 'site.test',
      agent,
      method: 'POST',
      body: ['hello ', big, ' world'],
      headers: { 'transfer-encoding': 'chunked' },
    })
    assert.equal(b.status, 200)
    assert.equal(b.headers['x-te'], 'chunked')
    assert.equal(b.body, `hello ${big} world`)
    const c = await httpsGet(lb.port, '/c', { host: 'site.test', agent })
    assert.equal(c.status, 200)
    assert.equal(sockets, 1, 'one TLS connection for the three requests')
  } finally {
    agent.destroy()
    await lb.close()
    await up.close()
    d.remove()
  }
})
