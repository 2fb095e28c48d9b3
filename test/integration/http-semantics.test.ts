/** HEAD, chunked bodies with trailers, Expect: 100-continue and set-cookie lists pass through lb intact. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'

let up: TestUpstream
let lb: TestLb

before(async () => {
  up = await startUpstream('u', (req, res) => {
    if (req.url === '/trailers') {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' })
      res.write('part1,')
      res.write('part2')
      res.addTrailers({ 'x-checksum': 'abc' })
      res.end()
      return
    }
    if (req.url === '/cookies') {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/'])
      res.end('ok')
      return
    }
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': String(Buffer.byteLength(`echo:${body}`)),
      })
      res.end(`echo:${body}`)
    })
  })
  lb = await startLb((c) => {
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
})

after(async () => {
  await lb.close()
  await up.close()
})

interface Raw {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  trailers: Record<string, string | undefined>
}

function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: lb.port, method, path, headers }, (res) => {
      let data = ''
      res.on('data', (c: Buffer) => (data += c.toString()))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, trailers: res.trailers }),
      )
    })
    req.on('error', reject)
    if (headers.expect === '100-continue') {
      req.on('continue', () => req.end(body))
    } else {
      req.end(body)
    }
  })
}

test('HEAD gets the headers without a body', async () => {
  const r = await send('HEAD', '/', {})
  assert.equal(r.status, 200)
  assert.equal(r.headers['content-length'], '5')
  assert.equal(r.body, '')
})

test('chunked response bodies keep their trailers', async () => {
  const r = await send('GET', '/trailers', { te: 'trailers' })
  assert.equal(r.body, 'part1,part2')
  assert.equal(r.trailers['x-checksum'], 'abc')
})

test('Expect: 100-continue is answered and the body forwarded', async () => {
  const r = await send('POST', '/', { expect: '100-continue', 'content-length': '5' }, 'hello')
  assert.equal(r.status, 200)
  assert.equal(r.body, 'echo:hello')
  assert.equal(up.requests.at(-1)?.headers.expect, undefined)
})

test('chunked request bodies are streamed upstream', async () => {
  const r = await send('POST', '/', { 'transfer-encoding': 'chunked' }, 'chunky')
  assert.equal(r.body, 'echo:chunky')
})

test('several set-cookie headers survive', async () => {
  const r = await send('GET', '/cookies', {})
  assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/'])
})
