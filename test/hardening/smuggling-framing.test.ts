/**
 * Request framing attacks (CL.TE, TE.CL, duplicate or conflicting Content-Length, obfuscated
 * Transfer-Encoding, bad chunk sizes, bodies shorter or longer than declared). Each is refused with 400 and a
 * close, or framed by lb into a request the upstream cannot read differently: the raw upstream never sees the
 * smuggled `/smuggled` request line.
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

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n'
const head = (lines: string): string => `POST /upload HTTP/1.1\r\nHost: a.test\r\n${lines}\r\n`

const refused: { desc: string; payload: string }[] = [
  {
    desc: 'CL.TE: Content-Length and Transfer-Encoding',
    payload: head('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n') + '0\r\n\r\n' + SMUGGLED,
  },
  {
    desc: 'TE.CL: Transfer-Encoding before Content-Length',
    payload: head('Transfer-Encoding: chunked\r\nContent-Length: 40\r\n') + '0\r\n\r\n' + SMUGGLED,
  },
  {
    desc: 'two different Content-Length headers',
    payload: head('Content-Length: 0\r\nContent-Length: 40\r\n') + SMUGGLED,
  },
  {
    desc: 'two equal Content-Length headers',
    payload: head('Content-Length: 40\r\nContent-Length: 40\r\n') + SMUGGLED,
  },
  { desc: 'Content-Length list', payload: head('Content-Length: 0, 40\r\n') + SMUGGLED },
  { desc: 'signed Content-Length', payload: head('Content-Length: +40\r\n') + SMUGGLED },
  { desc: 'non-numeric Content-Length', payload: head('Content-Length: 4x\r\n') + SMUGGLED },
  {
    desc: 'Transfer-Encoding not ending in chunked',
    payload: head('Transfer-Encoding: chunked, identity\r\n') + '0\r\n\r\n' + SMUGGLED,
  },
  {
    desc: 'Transfer-Encoding with an unknown coding',
    payload: head('Transfer-Encoding: xchunked\r\n') + '0\r\n\r\n' + SMUGGLED,
  },
  {
    desc: 'space before the colon of Transfer-Encoding',
    payload: head('Transfer-Encoding : chunked\r\nContent-Length: 5\r\n') + '0\r\n\r\n' + SMUGGLED,
  },
  {
    desc: 'Transfer-Encoding value starting with a vertical tab',
    payload: head('Transfer-Encoding:\x0bchunked\r\n') + '0\r\n\r\n' + SMUGGLED,
  },
  {
    desc: 'invalid chunk size',
    payload: head('Transfer-Encoding: chunked\r\n') + '5x\r\nhello\r\n0\r\n\r\n' + SMUGGLED,
  },
  {
    desc: 'chunk size with a bare LF',
    payload: head('Transfer-Encoding: chunked\r\n') + '5\nhello\r\n0\r\n\r\n' + SMUGGLED,
  },
]

/** Codings lb does not implement before `chunked`: 501, as nginx answers; a list with an empty member: 400. */
const unsupported: { desc: string; te: string; status: number }[] = [
  { desc: 'gzip, chunked', te: 'gzip, chunked', status: 501 },
  { desc: 'identity, chunked', te: 'identity, chunked', status: 501 },
  { desc: ',chunked', te: ',chunked', status: 400 },
]

for (const c of unsupported) {
  test(`Transfer-Encoding: ${c.desc} → ${c.status} and close, nothing upstream`, async () => {
    const from = up.bytes().length
    const r = await rawExchange(lb.port, head(`Transfer-Encoding: ${c.te}\r\n`) + '0\r\n\r\n' + SMUGGLED)
    assert.deepEqual(r.statuses, [c.status], r.data)
    assert.equal(r.closed, true)
    assert.equal(up.bytes().length, from, up.bytes().slice(from))
  })
}

for (const c of refused) {
  test(`${c.desc} → 400 and close, nothing smuggled`, async () => {
    const r = await rawExchange(lb.port, c.payload)
    assert.equal(r.statuses[0], 400, r.data)
    assert.equal(r.statuses.length, 1, r.data)
    assert.equal(r.closed, true)
    assert.ok(!up.bytes().includes('/smuggled'), up.bytes())
  })
}

test('body longer than Content-Length: the rest is the next request, routed and framed on its own', async () => {
  const from = up.bytes().length
  const seen = up.requestLines().length
  const r = await rawExchange(
    lb.port,
    head('Content-Length: 3\r\n') + 'abc' + 'GET /second HTTP/1.1\r\nHost: a.test\r\n\r\n',
  )
  assert.deepEqual(r.statuses, [200, 200], r.data)
  const sent = up.bytes().slice(from)
  assert.deepEqual(up.requestLines().slice(seen), ['POST /upload HTTP/1.1', 'GET /second HTTP/1.1'])
  // The first request carries exactly its 3 declared bytes.
  const first = sent.slice(0, sent.indexOf('GET /second'))
  assert.equal(first.slice(first.indexOf('\r\n\r\n') + 4), 'abc')
  assert.match(first, /\r\ncontent-length: 3\r\n/i)
})

test('body longer than Content-Length followed by garbage: 400 and close, no garbage upstream', async () => {
  const from = up.bytes().length
  const r = await rawExchange(lb.port, head('Content-Length: 3\r\n') + 'abc' + 'XYZ /x HTTP/9.9\r\n\r\n')
  assert.equal(r.statuses.at(-1), 400, r.data)
  assert.equal(r.closed, true)
  assert.ok(!up.bytes().slice(from).includes('XYZ'))
})

test('body shorter than Content-Length: nothing answers early, the upstream never gets a full request', async () => {
  const from = up.bytes().length
  const inner = 'GET /inner HTTP/1.1\r\nHost: a.test\r\n\r\n'
  const r = await rawExchange(lb.port, head('Content-Length: 100\r\n') + 'short' + inner)
  assert.deepEqual(r.statuses, [])
  const sent = up.bytes().slice(from)
  // One request whose body is still incomplete: the inner request line is body bytes, not a request.
  assert.equal(sent.indexOf('POST /upload HTTP/1.1\r\n'), 0)
  assert.match(sent, /\r\ncontent-length: 100\r\n/i)
  assert.ok(sent.endsWith('short' + inner))
})
