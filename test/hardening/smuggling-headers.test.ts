/**
 * Header syntax attacks: obs-fold, invalid names and values, bare LF / bare CR line ends, NUL bytes, oversize
 * request line (414) and header block (431). Each is refused before anything reaches the raw upstream.
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
    c.http.maxHeaderSize = 4_096
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
})

after(async () => {
  await lb.close()
  await up.close()
})

const get = (lines: string): string => `GET / HTTP/1.1\r\nHost: a.test\r\n${lines}\r\n`

const cases: { desc: string; payload: string; status: number }[] = [
  { desc: 'obs-fold continuation line', payload: get('X-A: one\r\n two\r\n'), status: 400 },
  {
    desc: 'obs-fold hiding Transfer-Encoding',
    payload: get('X-A: one\r\n Transfer-Encoding: chunked\r\n'),
    status: 400,
  },
  { desc: 'space in a header name', payload: get('X A: b\r\n'), status: 400 },
  { desc: 'empty header name', payload: get(': b\r\n'), status: 400 },
  { desc: 'control char in a header name', payload: get('X\x01A: b\r\n'), status: 400 },
  { desc: 'non-ASCII header name', payload: get('X-\u00e9: b\r\n'), status: 400 },
  { desc: 'NUL in a header value', payload: get('X-A: b\x00c\r\n'), status: 400 },
  { desc: 'bare CR in a header value', payload: get('X-A: b\rX-B: c\r\n'), status: 400 },
  {
    desc: 'bare LF ending a header line',
    payload: 'GET / HTTP/1.1\r\nHost: a.test\nX-A: b\r\n\r\n',
    status: 400,
  },
  { desc: 'bare LF line ends throughout', payload: 'GET / HTTP/1.1\nHost: a.test\n\n', status: 400 },
  { desc: 'space before the request line', payload: ' GET / HTTP/1.1\r\nHost: a.test\r\n\r\n', status: 400 },
  {
    desc: 'space inside the request target',
    payload: 'GET /a b HTTP/1.1\r\nHost: a.test\r\n\r\n',
    status: 400,
  },
  { desc: 'unknown HTTP version', payload: 'GET / HTTP/1.2\r\nHost: a.test\r\n\r\n', status: 400 },
  { desc: 'HTTP/2 preface on an HTTP/1 listener', payload: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', status: 400 },
  { desc: 'RTSP version', payload: 'GET / RTSP/1.0\r\nHost: a.test\r\n\r\n', status: 400 },
  { desc: 'ICE version', payload: 'GET / ICE/1.0\r\nHost: a.test\r\n\r\n', status: 400 },
  { desc: 'lower-case method', payload: 'get / HTTP/1.1\r\nHost: a.test\r\n\r\n', status: 400 },
  {
    desc: 'header block over max_header_size',
    payload: get(`X-Big: ${'a'.repeat(5_000)}\r\n`),
    status: 431,
  },
  {
    desc: 'many small headers over max_header_size',
    payload: get('X-Abc: def\r\n'.repeat(800)),
    status: 431,
  },
  {
    desc: 'request line over max_header_size',
    payload: `GET /${'a'.repeat(5_000)} HTTP/1.1\r\nHost: a.test\r\n\r\n`,
    status: 414,
  },
]

for (const c of cases) {
  test(`${c.desc} → ${c.status} and close`, async () => {
    const from = up.bytes().length
    const r = await rawExchange(lb.port, c.payload)
    assert.deepEqual(r.statuses, [c.status], r.data)
    assert.equal(r.closed, true)
    assert.equal(up.bytes().length, from, up.bytes().slice(from))
  })
}

test('two spaces in the request line: accepted, and the upstream gets a request line lb wrote', async () => {
  const seen = up.requestLines().length
  const r = await rawExchange(lb.port, 'GET  /x HTTP/1.1\r\nHost: a.test\r\n\r\n')
  assert.deepEqual(r.statuses, [200], r.data)
  assert.deepEqual(up.requestLines().slice(seen), ['GET /x HTTP/1.1'])
})
