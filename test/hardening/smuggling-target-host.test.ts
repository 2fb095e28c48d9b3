/**
 * Request targets and Host: absolute-form is routed by its authority and sent upstream in origin-form with
 * that Host (RFC 9112 §3.2.2); authority-form, asterisk-form and CONNECT are refused; Host missing,
 * duplicated or malformed gets 400; HTTP/1.0 without Host only reaches host-less routes.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startRawUpstream, rawExchange, type RawUpstream } from './raw.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'

let open: RawUpstream
let secret: RawUpstream
let lb: TestLb

before(async () => {
  open = await startRawUpstream()
  secret = await startRawUpstream()
  lb = await startLb((c) => {
    c.services = [service('open', [open.port]), service('secret', [secret.port])]
    c.routes = [route('', '/', 'open'), route('secret.test', '/', 'secret')]
  })
})

after(async () => {
  await lb.close()
  await open.close()
  await secret.close()
})

const refused: { desc: string; payload: string; status?: number }[] = [
  { desc: 'HTTP/1.1 without Host', payload: 'GET / HTTP/1.1\r\n\r\n' },
  { desc: 'two Host headers', payload: 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: secret.test\r\n\r\n' },
  { desc: 'two equal Host headers', payload: 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: a.test\r\n\r\n' },
  { desc: 'Host with a space', payload: 'GET / HTTP/1.1\r\nHost: secret.test x\r\n\r\n' },
  { desc: 'Host with a path', payload: 'GET / HTTP/1.1\r\nHost: secret.test/x\r\n\r\n' },
  { desc: 'Host with userinfo', payload: 'GET / HTTP/1.1\r\nHost: a@secret.test\r\n\r\n' },
  { desc: 'Host with a bad port', payload: 'GET / HTTP/1.1\r\nHost: secret.test:8o\r\n\r\n' },
  { desc: 'Host with two ports', payload: 'GET / HTTP/1.1\r\nHost: secret.test:80:80\r\n\r\n' },
  { desc: 'Host with an unclosed IPv6 literal', payload: 'GET / HTTP/1.1\r\nHost: [::1\r\n\r\n' },
  { desc: 'Host with percent-encoding', payload: 'GET / HTTP/1.1\r\nHost: secret%2etest\r\n\r\n' },
  { desc: 'authority-form on GET', payload: 'GET secret.test:80 HTTP/1.1\r\nHost: secret.test\r\n\r\n' },
  { desc: 'asterisk-form', payload: 'OPTIONS * HTTP/1.1\r\nHost: a.test\r\n\r\n' },
  {
    desc: 'absolute-form with userinfo',
    payload: 'GET http://u@secret.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n',
  },
  {
    desc: 'absolute-form with another scheme',
    payload: 'GET ftp://secret.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n',
  },
  { desc: 'fragment in the target', payload: 'GET /a#b HTTP/1.1\r\nHost: a.test\r\n\r\n' },
  { desc: 'absolute-form with an empty Host', payload: 'GET http://secret.test/ HTTP/1.1\r\nHost:\r\n\r\n' },
]

for (const c of refused) {
  test(`${c.desc} → 400`, async () => {
    const from = open.bytes().length + secret.bytes().length
    const r = await rawExchange(lb.port, c.payload)
    assert.deepEqual(r.statuses, [400], r.data)
    assert.equal(r.closed, true)
    assert.equal(open.bytes().length + secret.bytes().length, from)
  })
}

test('CONNECT is refused with a close and reaches no upstream', async () => {
  const from = open.bytes().length + secret.bytes().length
  const r = await rawExchange(lb.port, 'CONNECT secret.test:443 HTTP/1.1\r\nHost: secret.test:443\r\n\r\n')
  assert.equal(r.closed, true)
  assert.ok(!r.statuses.includes(200), r.data)
  assert.equal(open.bytes().length + secret.bytes().length, from)
})

test('absolute-form is routed by its authority and sent origin-form with that Host', async () => {
  const seen = secret.requestLines().length
  const from = secret.bytes().length
  const r = await rawExchange(lb.port, 'GET http://Secret.TEST/x/y?q=1 HTTP/1.1\r\nHost: a.test\r\n\r\n')
  assert.deepEqual(r.statuses, [200], r.data)
  assert.deepEqual(secret.requestLines().slice(seen), ['GET /x/y?q=1 HTTP/1.1'])
  const sent = secret.bytes().slice(from)
  assert.match(sent, /\r\nhost: Secret\.TEST\r\n/i)
  assert.doesNotMatch(sent, /\r\nhost: a\.test\r\n/i)
})

test('absolute-form without a path is sent as /', async () => {
  const seen = secret.requestLines().length
  const r = await rawExchange(lb.port, 'GET http://secret.test?q HTTP/1.1\r\nHost: secret.test\r\n\r\n')
  assert.deepEqual(r.statuses, [200], r.data)
  assert.deepEqual(secret.requestLines().slice(seen), ['GET /?q HTTP/1.1'])
})

test('HTTP/1.0 without Host reaches only host-less routes', async () => {
  const seen = open.requestLines().length
  const secretFrom = secret.bytes().length
  const r = await rawExchange(lb.port, 'GET /p HTTP/1.0\r\n\r\n')
  assert.deepEqual(r.statuses, [200], r.data)
  assert.deepEqual(open.requestLines().slice(seen), ['GET /p HTTP/1.1'])
  assert.equal(secret.bytes().length, secretFrom)
})

test('empty Host reaches only host-less routes', async () => {
  const seen = open.requestLines().length
  const r = await rawExchange(lb.port, 'GET /e HTTP/1.1\r\nHost:\r\n\r\n')
  assert.deepEqual(r.statuses, [200], r.data)
  assert.deepEqual(open.requestLines().slice(seen), ['GET /e HTTP/1.1'])
})

test('pipelined requests are answered in order, each routed by its own Host', async () => {
  const openSeen = open.requestLines().length
  const secretSeen = secret.requestLines().length
  const r = await rawExchange(
    lb.port,
    'GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\n' +
      'GET /2 HTTP/1.1\r\nHost: secret.test\r\n\r\n' +
      'POST /3 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2\r\n\r\nhi' +
      'GET /4 HTTP/1.1\r\nHost: a.test\r\nHost: secret.test\r\n\r\n',
  )
  assert.deepEqual(r.statuses, [200, 200, 200, 400], r.data)
  assert.deepEqual(open.requestLines().slice(openSeen), ['GET /1 HTTP/1.1', 'POST /3 HTTP/1.1'])
  assert.deepEqual(secret.requestLines().slice(secretSeen), ['GET /2 HTTP/1.1'])
})
