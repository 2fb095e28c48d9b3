/**
 * HTTP/2 request mapping (RFC 9113 §8.2.2, §8.3): what lb refuses on an HTTP/2 stream and what it sends upstream
 * over HTTP/1.1. Malformed streams are reset with PROTOCOL_ERROR (by nghttp2 or by lb) and nothing reaches the
 * recording upstream; well-formed ones arrive with lb's own framing.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startRawUpstream, type RawUpstream } from './raw.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'
import { data, headers, indexedStatus, rawH2, GOAWAY, HEADERS, RST_STREAM, type Frame } from './h2-raw.js'

let up: RawUpstream
let lb: TestLb

before(async () => {
  up = await startRawUpstream()
  lb = await startLb((c) => {
    const l = c.listeners[0]
    if (l !== undefined && l.mode === 'http') l.h2c = true
    c.services = [service('svc', [up.port], { retries: 0 })]
    c.routes = [route('', '/', 'svc')]
  })
})

after(async () => {
  await lb.close()
  await up.close()
})

const PROTOCOL_ERROR = 1
const INTERNAL_ERROR = 2
const base: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/m'],
  [':authority', 'a.test'],
]
const post: [string, string][] = [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':path', '/m'],
  [':authority', 'a.test'],
]

interface Case {
  readonly desc: string
  readonly frames: Buffer[]
  /** RST_STREAM (or GOAWAY) code on stream 1, or the response status. */
  readonly reset?: number | readonly number[]
  readonly status?: number
  /** What the upstream received (latin1), checked when the stream was answered. */
  readonly upstream?: (bytes: string) => void
}

const cases: Case[] = [
  ...[
    'connection: keep-alive',
    'keep-alive: timeout=5',
    'proxy-connection: keep-alive',
    'transfer-encoding: chunked',
    'upgrade: websocket',
  ].map((f): Case => {
    const [n, v] = f.split(': ') as [string, string]
    return {
      desc: `connection-specific ${n}`,
      frames: [headers(1, [...base, [n, v]], true)],
      reset: PROTOCOL_ERROR,
    }
  }),
  { desc: 'te: gzip', frames: [headers(1, [...base, ['te', 'gzip']], true)], reset: PROTOCOL_ERROR },
  {
    desc: 'te: trailers is accepted and not forwarded',
    frames: [headers(1, [...base, ['te', 'trailers']], true)],
    status: 200,
    upstream: (b) => assert.doesNotMatch(b, /\r\nte:/i),
  },
  {
    desc: ':authority and a different host',
    frames: [headers(1, [...base, ['host', 'b.test']], true)],
    reset: PROTOCOL_ERROR,
  },
  {
    desc: 'extended CONNECT (:protocol) is not enabled',
    frames: [
      headers(
        1,
        [
          ...base.slice(0, 1).map((): [string, string] => [':method', 'CONNECT']),
          [':protocol', 'websocket'],
          [':scheme', 'https'],
          [':path', '/chat'],
          [':authority', 'a.test'],
        ],
        true,
      ),
    ],
    reset: PROTOCOL_ERROR,
  },
  {
    desc: 'CONNECT gets the 400 of an HTTP/1.1 CONNECT',
    frames: [
      headers(
        1,
        [
          [':method', 'CONNECT'],
          [':authority', 'a.test:443'],
        ],
        false,
      ),
    ],
    status: 400,
  },
  {
    desc: 'two cookie fields are joined with "; ", :authority becomes Host',
    frames: [headers(1, [...base, ['cookie', 'a=1'], ['cookie', 'b=2']], true)],
    status: 200,
    upstream: (b) => {
      assert.match(b, /^GET \/m HTTP\/1\.1\r\nhost: a\.test\r\n/)
      assert.match(b, /\r\ncookie: a=1; b=2\r\n/)
    },
  },
  {
    desc: 'content-length above the DATA sent: reset, the upstream request aborted',
    frames: [headers(1, [...post, ['content-length', '10']], false), data(1, 'abc', true)],
    reset: PROTOCOL_ERROR,
  },
  {
    // nghttp2 fails the whole connection here (a protocol error from its receive call), and Node's GOAWAY for
    // that says INTERNAL_ERROR: the connection is gone and nothing reached the upstream either way.
    desc: 'DATA beyond content-length: the connection is closed',
    frames: [headers(1, [...post, ['content-length', '2']], false), data(1, 'abcdef', true)],
    reset: [PROTOCOL_ERROR, INTERNAL_ERROR],
  },
  {
    desc: 'a body without content-length goes chunked, with its trailers',
    frames: [headers(1, post, false), data(1, 'hello', false), headers(1, [['x-checksum', 'abc']], true)],
    status: 200,
    upstream: (b) => {
      assert.match(b, /\r\nTransfer-Encoding: chunked\r\n/)
      assert.match(b, /\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n$/)
    },
  },
  {
    desc: 'a body with content-length goes as is',
    frames: [headers(1, [...post, ['content-length', '5']], false), data(1, 'hello', true)],
    status: 200,
    upstream: (b) => {
      assert.match(b, /\r\ncontent-length: 5\r\n/)
      assert.doesNotMatch(b, /Transfer-Encoding/)
      assert.match(b, /\r\n\r\nhello$/)
    },
  },
]

for (const c of cases) {
  test(c.desc, async () => {
    const before = up.bytes().length
    const framed = up.requestLines().length
    const frames: Frame[] = await rawH2(lb.port, c.frames)
    const onStream = frames.filter((f) => f.stream === 1)
    if (c.reset !== undefined) {
      // A stream error (RST_STREAM); nghttp2 makes some a connection error (GOAWAY) with the same code.
      const rst = onStream.find((f) => f.type === RST_STREAM)
      const goaway = frames.find((f) => f.type === GOAWAY)
      const code = rst !== undefined ? rst.payload.readUInt32BE(0) : goaway?.payload.readUInt32BE(4)
      const codes = typeof c.reset === 'number' ? [c.reset] : c.reset
      assert.ok(
        codes.includes(code ?? -1),
        `code ${code}, frame types ${frames.map((f) => f.type).join(',')}`,
      )
      // No complete request reached the upstream (a started one was cut off).
      assert.equal(up.requestLines().length, framed)
      return
    }
    const head = onStream.find((f) => f.type === HEADERS)
    assert.ok(head !== undefined, 'a response HEADERS frame')
    assert.equal(indexedStatus(head), c.status)
    c.upstream?.(up.bytes().slice(before))
  })
}
