/**
 * Response compression (`http.gzip_content_types`, fabio `proxy.gzip.contenttype`): a matching Content-Type is
 * gzipped for a client that accepts gzip, streamed chunked without Content-Length; anything else passes as the
 * server sent it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gunzipSync } from 'node:zlib'
import { request } from 'node:http'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { rawExchange } from '../hardening/raw.js'

const TEXT = 'lb compresses this line.\n'.repeat(4_000)

interface Raw {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

function fetchRaw(port: number, path: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

test('gzip: matching types compressed for clients that accept it; others and encoded bodies untouched', async () => {
  const up = await startUpstream('u', (req, res) => {
    req.resume()
    if (req.url === '/png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': '4' })
      res.end('\x89PNG')
      return
    }
    if (req.url === '/encoded') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'br', 'content-length': '3' })
      res.end('abc')
      return
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(TEXT.length) })
    // In two parts, so compression streams across reads.
    res.write(TEXT.slice(0, 30_000))
    setImmediate(() => res.end(TEXT.slice(30_000)))
  })
  const lb = await startLb((c) => {
    c.http.gzipContentTypes = '^text/'
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const gz = await fetchRaw(lb.port, '/text', { 'accept-encoding': 'gzip, deflate' })
    assert.equal(gz.status, 200)
    assert.equal(gz.headers['content-encoding'], 'gzip')
    assert.equal(gz.headers['content-length'], undefined)
    assert.equal(gz.headers['transfer-encoding'], 'chunked')
    assert.match(String(gz.headers.vary), /accept-encoding/i)
    assert.ok(gz.body.length < TEXT.length / 10, `${gz.body.length} compressed bytes`)
    assert.equal(gunzipSync(gz.body).toString(), TEXT)

    const plain = await fetchRaw(lb.port, '/text', {})
    assert.equal(plain.headers['content-encoding'], undefined)
    assert.equal(plain.body.toString(), TEXT)

    const refused = await fetchRaw(lb.port, '/text', { 'accept-encoding': 'gzip;q=0, br' })
    assert.equal(refused.headers['content-encoding'], undefined)

    const png = await fetchRaw(lb.port, '/png', { 'accept-encoding': 'gzip' })
    assert.equal(png.headers['content-encoding'], undefined)
    assert.equal(png.headers['content-length'], '4')

    const encoded = await fetchRaw(lb.port, '/encoded', { 'accept-encoding': 'gzip' })
    assert.equal(encoded.headers['content-encoding'], 'br')
    assert.equal(encoded.body.toString(), 'abc')

    // The keep-alive connection goes on after a compressed response: two in a row on one connection.
    const get = 'GET /text HTTP/1.1\r\nHost: a.test\r\nAccept-Encoding: gzip\r\n\r\n'
    const two = await rawExchange(lb.port, get + get, 500)
    assert.deepEqual(two.statuses, [200, 200])
    assert.ok(two.data.endsWith('\r\n0\r\n\r\n'), 'the second chunked body is complete')
  } finally {
    await lb.close()
    await up.close()
  }
})
