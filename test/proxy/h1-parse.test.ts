/** The strict HTTP/1.1 head and chunked-body parsers (src/net/h1/parse.ts), table-driven. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  hasBareLf,
  headEnd,
  parseRequestHead,
  parseResponseHead,
  RequestHead,
  ResponseHead,
  transferCodings,
} from '../../src/net/h1/parse.js'
import { ChunkedDecoder, type ChunkSink } from '../../src/net/h1/chunked.js'

function request(text: string): { status: number; head: RequestHead } {
  const buf = Buffer.from(text, 'latin1')
  const end = headEnd(buf, 0)
  assert.ok(end > 0, `no head end in ${JSON.stringify(text)}`)
  const head = new RequestHead()
  return { status: parseRequestHead(buf, 0, end, head), head }
}

const requestCases: { desc: string; text: string; status: number }[] = [
  { desc: 'plain GET', text: 'GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n', status: 0 },
  { desc: 'HTTP/1.0 without Host', text: 'GET / HTTP/1.0\r\n\r\n', status: 0 },
  { desc: 'two spaces between parts', text: 'GET  /x  HTTP/1.1\r\nHost: x\r\n\r\n', status: 0 },
  { desc: 'lower-case method', text: 'get / HTTP/1.1\r\nHost: x\r\n\r\n', status: 400 },
  { desc: 'method too long', text: `${'A'.repeat(33)} / HTTP/1.1\r\n\r\n`, status: 400 },
  { desc: 'HTTP/1.2', text: 'GET / HTTP/1.2\r\nHost: x\r\n\r\n', status: 400 },
  { desc: 'RTSP/1.0', text: 'GET / RTSP/1.0\r\nHost: x\r\n\r\n', status: 400 },
  { desc: 'HTTP/2.0 preface', text: 'PRI * HTTP/2.0\r\n\r\n', status: 400 },
  { desc: 'version then a space', text: 'GET / HTTP/1.1 \r\nHost: x\r\n\r\n', status: 400 },
  { desc: 'control char in the target', text: 'GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n', status: 400 },
  { desc: 'obs-fold', text: 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n', status: 400 },
  { desc: 'space before colon', text: 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', status: 400 },
  { desc: 'empty header name', text: 'GET / HTTP/1.1\r\n: x\r\n\r\n', status: 400 },
  { desc: 'NUL in a value', text: 'GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n', status: 400 },
  { desc: 'bare CR in a value', text: 'GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n', status: 400 },
  { desc: 'bare LF in a value', text: 'GET / HTTP/1.1\r\nX-A: a\nb\r\n\r\n', status: 400 },
  { desc: 'DEL in a value', text: 'GET / HTTP/1.1\r\nX-A: a\x7fb\r\n\r\n', status: 400 },
  { desc: 'obs-text in a value', text: 'GET / HTTP/1.1\r\nHost: x\r\nX-A: caf\xe9\r\n\r\n', status: 0 },
  {
    desc: 'CL and TE',
    text: 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
    status: 400,
  },
  {
    desc: 'two CL, equal',
    text: 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n',
    status: 400,
  },
  { desc: 'CL list', text: 'POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n', status: 400 },
  { desc: 'signed CL', text: 'POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n', status: 400 },
  { desc: 'CL too long', text: `POST / HTTP/1.1\r\nContent-Length: ${'9'.repeat(16)}\r\n\r\n`, status: 400 },
  { desc: 'TE chunked', text: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', status: 0 },
  {
    desc: 'TE Chunked (case)',
    text: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n',
    status: 0,
  },
  {
    desc: 'TE gzip, chunked',
    text: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
    status: 501,
  },
  {
    desc: 'TE identity, chunked',
    text: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n',
    status: 501,
  },
  { desc: 'TE ,chunked', text: 'POST / HTTP/1.1\r\nTransfer-Encoding: ,chunked\r\n\r\n', status: 400 },
  {
    desc: 'TE chunked, identity',
    text: 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n',
    status: 400,
  },
  {
    desc: 'TE chunked twice',
    text: 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n',
    status: 400,
  },
  { desc: 'TE xchunked', text: 'POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n', status: 400 },
  { desc: 'TE in HTTP/1.0', text: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', status: 400 },
  {
    desc: 'Expect 100-continue',
    text: 'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n',
    status: 0,
  },
  { desc: 'HTTP/1.1 without Host', text: 'GET / HTTP/1.1\r\n\r\n', status: 400 },
  { desc: 'other expectation', text: 'POST / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n', status: 417 },
  {
    desc: 'too many header lines',
    text: `GET / HTTP/1.1\r\n${'a: b\r\n'.repeat(1001)}\r\n`,
    status: 431,
  },
]

for (const c of requestCases) {
  test(`request head: ${c.desc} → ${c.status === 0 ? 'accepted' : c.status}`, () => {
    const { status, head } = request(c.text)
    assert.equal(status, c.status, head.error)
  })
}

test('request head: fields the proxy reads', () => {
  const { head } = request(
    'POST /up HTTP/1.1\r\nhost: a.test\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n' +
      'Content-Length: 12\r\nX-Empty:\r\nX-Pad:  v  \r\n\r\n',
  )
  assert.equal(head.method, 'POST')
  assert.equal(head.target, '/up')
  assert.equal(head.host, 'a.test')
  assert.equal(head.hostCount, 1)
  assert.equal(head.contentLength, 12)
  assert.equal(head.connectionUpgrade, true)
  assert.equal(head.upgrade, 'websocket')
  assert.equal(head.close, false)
  assert.deepEqual(head.headers.slice(-4), ['X-Empty', '', 'X-Pad', 'v'])
})

test('request head: HTTP/1.0 closes unless keep-alive is asked for; Connection: close closes', () => {
  assert.equal(request('GET / HTTP/1.0\r\n\r\n').head.close, true)
  assert.equal(request('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').head.close, false)
  assert.equal(request('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').head.close, true)
})

test('request head: every Host is counted', () => {
  const { head } = request('GET / HTTP/1.1\r\nHost: a\r\nHOST: b\r\n\r\n')
  assert.equal(head.hostCount, 2)
  assert.equal(head.host, 'a')
})

test('headEnd and hasBareLf', () => {
  assert.equal(headEnd(Buffer.from('GET / HTTP/1.1\r\n\r\nX'), 0), 18)
  assert.equal(headEnd(Buffer.from('GET / HTTP/1.1\r\n'), 0), -1)
  assert.equal(hasBareLf(Buffer.from('GET / HTTP/1.1\nHost'), 0, 19), true)
  assert.equal(hasBareLf(Buffer.from('GET / HTTP/1.1\r\nHost'), 0, 20), false)
})

test('transfer codings', () => {
  assert.equal(transferCodings('chunked'), 0)
  assert.equal(transferCodings(' chunked '), 0)
  assert.equal(transferCodings('gzip,chunked'), 501)
  assert.equal(transferCodings('gzip'), 400)
  assert.equal(transferCodings('chunked,'), 400)
  assert.equal(transferCodings('chu nked'), 400)
})

function response(text: string): { ok: boolean; head: ResponseHead } {
  const buf = Buffer.from(text, 'latin1')
  const end = headEnd(buf, 0)
  const head = new ResponseHead()
  return { ok: parseResponseHead(buf, 0, end, head), head }
}

const responseCases: { desc: string; text: string; ok: boolean }[] = [
  { desc: 'plain 200', text: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n', ok: true },
  { desc: 'no reason phrase', text: 'HTTP/1.1 204\r\n\r\n', ok: true },
  { desc: 'empty reason phrase', text: 'HTTP/1.1 204 \r\n\r\n', ok: true },
  { desc: 'two-digit status', text: 'HTTP/1.1 20 OK\r\n\r\n', ok: false },
  { desc: 'HTTP/2 status line', text: 'HTTP/2 200 OK\r\n\r\n', ok: false },
  { desc: 'not HTTP', text: 'SSH-2.0-OpenSSH\r\n\r\n', ok: false },
  { desc: 'space in a header name', text: 'HTTP/1.1 200 OK\r\nX A: 1\r\n\r\n', ok: false },
  {
    desc: 'two Content-Length',
    text: 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n',
    ok: false,
  },
  {
    desc: 'CL and TE',
    text: 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
    ok: false,
  },
  { desc: 'negative CL', text: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', ok: false },
  { desc: 'obs-fold', text: 'HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n', ok: false },
]

for (const c of responseCases) {
  test(`response head: ${c.desc} → ${c.ok ? 'accepted' : 'refused'}`, () => {
    const r = response(c.text)
    assert.equal(r.ok, c.ok, r.head.error)
  })
}

test('response head: keep-alive by version and Connection; chunked by the last coding', () => {
  assert.equal(response('HTTP/1.1 200 OK\r\n\r\n').head.keepAlive, true)
  assert.equal(response('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n').head.keepAlive, false)
  assert.equal(response('HTTP/1.0 200 OK\r\n\r\n').head.keepAlive, false)
  assert.equal(response('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n').head.keepAlive, true)
  assert.equal(response('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n').head.chunked, true)
  assert.equal(response('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n').head.chunked, false)
  assert.equal(response('HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n').head.chunked, false)
})

class Collect implements ChunkSink {
  data = ''
  trailers: string | null = null
  chunkData(buf: Buffer, start: number, end: number): void {
    this.data += buf.toString('latin1', start, end)
  }
  chunkedEnd(trailers: string): void {
    this.trailers = trailers
  }
}

/** Feed `body` to a decoder in pieces of `step` bytes; returns what it decoded and the bytes it used. */
function decode(body: string, step: number): { sink: Collect; used: number; error: string } {
  const sink = new Collect()
  const d = new ChunkedDecoder(sink)
  const buf = Buffer.from(body, 'latin1')
  let used = 0
  for (let i = 0; i < buf.length && !d.done; i += step) {
    const n = d.feed(buf, i, Math.min(buf.length, i + step))
    if (n < 0) return { sink, used, error: d.error }
    used += n
  }
  return { sink, used, error: '' }
}

const chunkCases: { desc: string; body: string; data?: string; trailers?: string; error?: boolean }[] = [
  { desc: 'two chunks', body: '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', data: 'hello world', trailers: '' },
  { desc: 'hex sizes', body: 'A\r\n0123456789\r\n0\r\n\r\n', data: '0123456789', trailers: '' },
  { desc: 'extension dropped', body: '3;a=b\r\nabc\r\n0\r\n\r\n', data: 'abc', trailers: '' },
  { desc: 'trailers', body: '1\r\nx\r\n0\r\nX-T: 1\r\n\r\n', data: 'x', trailers: 'X-T: 1\r\n' },
  { desc: 'size with 0x', body: '0x5\r\nhello\r\n0\r\n\r\n', error: true },
  { desc: 'size with a space', body: '5 \r\nhello\r\n0\r\n\r\n', error: true },
  { desc: 'signed size', body: '-5\r\nhello\r\n0\r\n\r\n', error: true },
  { desc: 'bare LF after the size', body: '5\nhello\r\n0\r\n\r\n', error: true },
  { desc: 'data longer than the size', body: '3\r\nhello\r\n0\r\n\r\n', error: true },
  { desc: 'huge size', body: 'fffffffffffffff\r\n', error: true },
  { desc: 'control char in an extension', body: '1;\x01\r\nx\r\n0\r\n\r\n', error: true },
  { desc: 'bad trailer', body: '0\r\nX T: 1\r\n\r\n', error: true },
  { desc: 'bare LF in trailers', body: '0\r\nX-T: 1\n\r\n', error: true },
]

for (const c of chunkCases) {
  for (const step of [1, 3, 1_000]) {
    test(`chunked body: ${c.desc} (fed ${step} bytes at a time)`, () => {
      const r = decode(c.body + 'NEXT', step)
      if (c.error === true) {
        assert.notEqual(r.error, '')
        return
      }
      assert.equal(r.error, '')
      assert.equal(r.sink.data, c.data)
      assert.equal(r.sink.trailers, c.trailers)
      assert.equal(r.used, c.body.length, 'the bytes after the body are not used')
    })
  }
}
