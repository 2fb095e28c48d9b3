/**
 * An Upgrade request with a body keeps its framing: the server gets the body inside the request it belongs to
 * (chunked re-framed by lb, or Content-Length as declared), never as bytes that look like a request of their own.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startRawUpstream, rawExchange, type RawUpstream } from './raw.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'

let up: RawUpstream
let lb: TestLb

before(async () => {
  up = await startRawUpstream()
  lb = await startLb((c) => {
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
})

after(async () => {
  await lb.close()
  await up.close()
})

const upgrade = 'POST /up HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n'

test('chunked body on an Upgrade: framed upstream, no request made of chunk lines', async () => {
  const from = up.bytes().length
  const seen = up.requestLines().length
  const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n'
  const chunk = Buffer.byteLength(smuggled).toString(16)
  const r = await rawExchange(
    lb.port,
    `${upgrade}Transfer-Encoding: chunked\r\n\r\n${chunk}\r\n${smuggled}\r\n0\r\n\r\n`,
    500,
  )
  assert.deepEqual(r.statuses, [200], r.data)
  assert.deepEqual(up.requestLines().slice(seen), ['POST /up HTTP/1.1'])
  const sent = up.bytes().slice(from)
  assert.match(sent, /\r\ntransfer-encoding: chunked\r\n/i)
  assert.ok(sent.endsWith(`${chunk}\r\n${smuggled}\r\n0\r\n\r\n`), sent)
})

test('Content-Length body on an Upgrade: sent with its length', async () => {
  const from = up.bytes().length
  const seen = up.requestLines().length
  const r = await rawExchange(lb.port, `${upgrade}Content-Length: 4\r\n\r\nbody`, 500)
  assert.deepEqual(r.statuses, [200], r.data)
  assert.deepEqual(up.requestLines().slice(seen), ['POST /up HTTP/1.1'])
  const sent = up.bytes().slice(from)
  assert.match(sent, /\r\ncontent-length: 4\r\n/i)
  assert.ok(sent.endsWith('\r\n\r\nbody'), sent)
})
