/**
 * fabio `logger/logger_test.go`: access-log templates (src/fabio/access-log.ts). Ported rows: TestLog (34 fields) and
 * TestParse's rows that use fabio's own fields ("" and `$header.User-Agent`). Not ported: TestParse's rows over
 * the test-only fields `$a`/`$b`, TestAtoi (a Go helper). fabio's request: `GET http://foo.com/?q=x HTTP/1.1`
 * from 2.2.2.2:666 with User-Agent, Referer and X-Forwarded-For, answered 200 with 1,234 bytes by svc-a at
 * 7.8.9.0:5678 (`/foo?q=x`), from 2016-01-01T00:00:00Z for 123,456,789 ns.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fabioCases } from './cases.js'
import { compileAccessFormat, formatAccess, type AccessRecord } from '../../../src/fabio/access-log.js'

const start = Date.UTC(2016, 0, 1)
const record: AccessRecord = {
  remoteAddr: '2.2.2.2',
  remotePort: 666,
  method: 'GET',
  uri: '/?q=x',
  proto: 'HTTP/1.1',
  host: 'foo.com',
  scheme: 'http',
  status: 200,
  bytes: 1234,
  headers: ['User-Agent', 'Mozilla Firefox', 'Referer', 'http://foo.com/', 'X-Forwarded-For', '3.3.3.3'],
  upstreamAddr: '7.8.9.0:5678',
  upstreamScheme: 'http',
  upstreamUri: '/foo?q=x',
  service: 'svc-a',
  endMs: start + 123,
  endSubNs: 456_789,
  durationNs: 123_456_789,
}

function render(format: string): string {
  const f = compileAccessFormat(format)
  return typeof f === 'string' ? `error: ${f}` : formatAccess(f, record)
}

const rows: [string, string][] = [
  ['$header.Referer', 'http://foo.com/\n'],
  ['$header.X-Forwarded-For', '3.3.3.3\n'],
  ['$header.user-agent', 'Mozilla Firefox\n'],
  ['$remote_addr', '2.2.2.2:666\n'],
  ['$remote_host', '2.2.2.2\n'],
  ['$remote_port', '666\n'],
  ['$request', 'GET /?q=x HTTP/1.1\n'],
  ['$request_args', 'q=x\n'],
  ['$request_host', 'foo.com\n'],
  ['$request_method', 'GET\n'],
  ['$request_proto', 'HTTP/1.1\n'],
  ['$request_scheme', 'http\n'],
  ['$request_uri', '/?q=x\n'],
  ['$request_url', 'http://foo.com/?q=x\n'],
  ['$response_body_size', '1234\n'],
  ['$response_status', '200\n'],
  ['$response_time_ms', '0.123\n'],
  ['$response_time_ns', '0.123456789\n'],
  ['$response_time_us', '0.123456\n'],
  ['$time_common', '01/Jan/2016:00:00:00 +0000\n'],
  ['$time_rfc3339', '2016-01-01T00:00:00Z\n'],
  ['$time_rfc3339_ms', '2016-01-01T00:00:00.123Z\n'],
  ['$time_rfc3339_ns', '2016-01-01T00:00:00.123456789Z\n'],
  ['$time_rfc3339_us', '2016-01-01T00:00:00.123456Z\n'],
  ['$time_unix_ms', '1451606400123\n'],
  ['$time_unix_ns', '1451606400123456789\n'],
  ['$time_unix_us', '1451606400123456\n'],
  ['$upstream_addr', '7.8.9.0:5678\n'],
  ['$upstream_host', '7.8.9.0\n'],
  ['$upstream_port', '5678\n'],
  ['$upstream_request_scheme', 'http\n'],
  ['$upstream_request_uri', '/foo?q=x\n'],
  ['$upstream_request_url', 'http://7.8.9.0:5678/foo?q=x\n'],
  ['$upstream_service', 'svc-a\n'],
]

fabioCases(
  'TestLog',
  rows.map(([format, out]) => ({ fabio: `TestLog/${format}`, in: format, want: out })),
  render,
)

fabioCases(
  'TestParse',
  [
    { fabio: 'TestParse/0 empty format', in: '', want: '' },
    {
      fabio: 'TestParse/3 text and a header',
      in: '$request_method "$header.User-Agent"',
      want: 'GET "Mozilla Firefox"\n',
    },
  ],
  render,
)

test('common and combined are fabio CommonFormat and CombinedFormat', () => {
  const common = '2.2.2.2 - - [01/Jan/2016:00:00:00 +0000] "GET /?q=x HTTP/1.1" 200 1234\n'
  assert.equal(render('common'), common)
  assert.equal(render('combined'), common.slice(0, -1) + ' "http://foo.com/" "Mozilla Firefox"\n')
})

test('unknown fields and credential headers are refused', () => {
  assert.equal(render('$nope'), 'error: unknown access-log field "$nope"')
  assert.match(render('$header.Authorization'), /credentials/)
  assert.equal(render('cost $ 5'), 'cost $ 5\n', 'a $ without a name is text')
})
