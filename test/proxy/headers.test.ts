import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CidrSet } from '../../src/net/cidr.js'
import {
  acceptRequestId,
  buildUpstreamHeaders,
  clientAddress,
  filterResponseHeaders,
  findHeader,
  joinHeader,
  newRequestId,
  type ForwardContext,
} from '../../src/proxy/headers.js'

const untrusted: ForwardContext = {
  remoteAddress: '203.0.113.7',
  clientAddress: '203.0.113.7',
  trusted: false,
  proto: 'https',
  localPort: 443,
  httpVersion: '1.1',
  websocket: false,
  clientIpHeader: '',
  clientIpLower: '',
  forwardedBy: '',
  hostHeader: '',
  prefix: '',
  requestIdHeader: '',
  requestId: '',
  certHeaders: new Set(),
  certHeader: '',
  certValue: '',
}

const trusted: ForwardContext = {
  ...untrusted,
  remoteAddress: '10.0.0.2',
  clientAddress: '198.51.100.9',
  trusted: true,
}

/** The headers lb appends for an untrusted peer 203.0.113.7 on https:443 with Host a.example. */
const lbUntrusted = [
  'X-Forwarded-For',
  '203.0.113.7',
  'X-Real-IP',
  '203.0.113.7',
  'X-Forwarded-Proto',
  'https',
  'X-Forwarded-Host',
  'a.example',
  'X-Forwarded-Port',
  '443',
  'Forwarded',
  'for=203.0.113.7; proto=https; httpproto=http/1.1',
]

/** The headers lb appends for trusted peer 10.0.0.2 (client 198.51.100.9, no X-Forwarded-For) on https:443. */
const lbTrusted = [
  'X-Forwarded-For',
  '10.0.0.2',
  'X-Real-IP',
  '198.51.100.9',
  ...lbUntrusted.slice(4, 10),
  'Forwarded',
  'for=10.0.0.2; proto=https; httpproto=http/1.1',
]

/** Pairs of a flat list, for readable diffs. */
function pairs(flat: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < flat.length; i += 2) out.push(`${flat[i]}: ${flat[i + 1]}`)
  return out
}

test('buildUpstreamHeaders', async (t) => {
  const cases: { desc: string; ctx?: Partial<ForwardContext>; raw: string[]; want: string[] }[] = [
    {
      desc: 'plain request: pass-through in order and case, lb headers appended',
      raw: ['Host', 'a.example', 'User-Agent', 'x', 'accept', '*/*'],
      want: ['Host', 'a.example', 'User-Agent', 'x', 'accept', '*/*', ...lbUntrusted],
    },
    {
      desc: 'hop-by-hop headers removed',
      raw: [
        'Host',
        'a.example',
        'Connection',
        'keep-alive',
        'Keep-Alive',
        'timeout=5',
        'Proxy-Connection',
        'keep-alive',
        'TE',
        'trailers',
        'Trailer',
        'X-Checksum',
        'Transfer-Encoding',
        'chunked',
        'Upgrade',
        'websocket',
        'Expect',
        '100-continue',
        'Proxy-Authorization',
        'Basic Zm9v',
        'Proxy-Authenticate',
        'Basic',
        'HTTP2-Settings',
        'AAMAAABkAAQAAP__',
        'Accept',
        'text/html',
      ],
      want: ['Host', 'a.example', 'Accept', 'text/html', ...lbUntrusted],
    },
    {
      desc: 'names listed in Connection removed, before and after it, any case',
      raw: [
        'X-Secret',
        '1',
        'Host',
        'a.example',
        'Connection',
        'Upgrade, X-SECRET ,  x-other,,close',
        'X-Other',
        '2',
        'x-other',
        '3',
        'X-Kept',
        '4',
      ],
      want: ['Host', 'a.example', 'X-Kept', '4', ...lbUntrusted],
    },
    {
      desc: 'several Connection headers are all honoured',
      raw: [
        'Host',
        'a.example',
        'Connection',
        'x-a',
        'Connection',
        'x-b',
        'X-A',
        '1',
        'X-B',
        '2',
        'X-C',
        '3',
      ],
      want: ['Host', 'a.example', 'X-C', '3', ...lbUntrusted],
    },
    {
      desc: 'Connection cannot remove headers lb sets (fabio 1.6.6)',
      ctx: trusted,
      raw: [
        'Host',
        'a.example',
        'Connection',
        'X-Forwarded-For, x-real-ip, X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Port, Forwarded, host',
        'X-Forwarded-For',
        '198.51.100.9',
        'X-Real-IP',
        '198.51.100.9',
        'X-Forwarded-Proto',
        'http',
        'X-Forwarded-Host',
        'b.example',
        'X-Forwarded-Port',
        '80',
        'Forwarded',
        'for=198.51.100.9',
      ],
      want: [
        'Host',
        'a.example',
        'X-Real-IP',
        '198.51.100.9',
        'X-Forwarded-Proto',
        'http',
        'X-Forwarded-Host',
        'b.example',
        'X-Forwarded-Port',
        '80',
        'X-Forwarded-For',
        '198.51.100.9, 10.0.0.2',
        'Forwarded',
        'for=198.51.100.9, for=10.0.0.2; proto=https; httpproto=http/1.1',
      ],
    },
    {
      desc: 'Connection cannot remove the request id header or the prefix',
      ctx: { requestIdHeader: 'x-request-id', requestId: 'abc', prefix: '/api' },
      raw: ['Host', 'a.example', 'Connection', 'X-Request-Id, x-forwarded-prefix'],
      want: [
        'Host',
        'a.example',
        ...lbUntrusted.slice(0, 10),
        'X-Forwarded-Prefix',
        '/api',
        ...lbUntrusted.slice(10),
        'x-request-id',
        'abc',
      ],
    },
    {
      desc: 'untrusted peer: client forwarding headers dropped and replaced',
      raw: [
        'Host',
        'a.example',
        'X-Forwarded-For',
        '1.1.1.1',
        'x-forwarded-proto',
        'http',
        'X-Forwarded-Host',
        'evil.example',
        'X-Forwarded-Port',
        '1',
        'X-Forwarded-Prefix',
        '/evil',
        'X-Real-IP',
        '1.1.1.1',
        'Forwarded',
        'for=1.1.1.1',
        'X-Kept',
        'k',
      ],
      want: ['Host', 'a.example', 'X-Kept', 'k', ...lbUntrusted],
    },
    {
      desc: 'trusted peer: XFF values joined in order and the peer appended; absent ones set',
      ctx: trusted,
      raw: [
        'Host',
        'a.example',
        'X-Forwarded-For',
        '1.1.1.1, 2.2.2.2',
        'Accept',
        '*/*',
        'x-forwarded-for',
        '3.3.3.3',
      ],
      want: [
        'Host',
        'a.example',
        'Accept',
        '*/*',
        'X-Forwarded-For',
        '1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.2',
        ...lbTrusted.slice(2),
      ],
    },
    {
      desc: 'trusted peer: client X-Forwarded-Proto/Host/Port/Prefix/Real-IP kept in place, Forwarded appended',
      ctx: trusted,
      raw: [
        'X-Forwarded-Proto',
        'http',
        'Host',
        'a.example',
        'X-Forwarded-Host',
        'public.example',
        'X-Forwarded-Port',
        '80',
        'X-Forwarded-Prefix',
        '/outer',
        'X-Real-IP',
        '198.51.100.1',
        'Forwarded',
        'for=198.51.100.1;proto=http',
        'Forwarded',
        'for=10.0.0.9',
      ],
      want: [
        'X-Forwarded-Proto',
        'http',
        'Host',
        'a.example',
        'X-Forwarded-Host',
        'public.example',
        'X-Forwarded-Port',
        '80',
        'X-Forwarded-Prefix',
        '/outer',
        'X-Real-IP',
        '198.51.100.1',
        'X-Forwarded-For',
        '10.0.0.2',
        'Forwarded',
        'for=198.51.100.1;proto=http, for=10.0.0.9, for=10.0.0.2; proto=https; httpproto=http/1.1',
      ],
    },
    {
      desc: 'trusted peer: empty XFF values are skipped',
      ctx: trusted,
      raw: ['Host', 'a.example', 'X-Forwarded-For', '', 'X-Forwarded-For', '1.1.1.1'],
      want: [
        'Host',
        'a.example',
        'X-Forwarded-For',
        '1.1.1.1, 10.0.0.2',
        ...['X-Real-IP', '198.51.100.9', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'a.example'],
        ...['X-Forwarded-Port', '443', 'Forwarded', 'for=10.0.0.2; proto=https; httpproto=http/1.1'],
      ],
    },
    {
      desc: 'IPv6 peer: Forwarded for= quoted and bracketed',
      ctx: { remoteAddress: '2001:db8::1', clientAddress: '2001:db8::1', proto: 'http', localPort: 80 },
      raw: ['Host', 'a.example'],
      want: [
        'Host',
        'a.example',
        ...['X-Forwarded-For', '2001:db8::1', 'X-Real-IP', '2001:db8::1', 'X-Forwarded-Proto', 'http'],
        ...['X-Forwarded-Host', 'a.example', 'X-Forwarded-Port', '80'],
        ...['Forwarded', 'for="[2001:db8::1]"; proto=http; httpproto=http/1.1'],
      ],
    },
    {
      desc: 'IPv4-mapped peer written as IPv4',
      ctx: { remoteAddress: '::ffff:203.0.113.7', clientAddress: '::ffff:203.0.113.7' },
      raw: ['Host', 'a.example'],
      want: ['Host', 'a.example', ...lbUntrusted],
    },
    {
      desc: 'Host with a port: X-Forwarded-Port is that port (fabio)',
      raw: ['Host', 'a.example:8443'],
      want: [
        'Host',
        'a.example:8443',
        ...lbUntrusted.slice(0, 6),
        ...['X-Forwarded-Host', 'a.example:8443', 'X-Forwarded-Port', '8443'],
        ...['Forwarded', 'for=203.0.113.7; proto=https; httpproto=http/1.1'],
      ],
    },
    {
      desc: 'Host with a quote is escaped in Forwarded',
      raw: ['Host', 'a"b\\c'],
      want: [
        'Host',
        'a"b\\c',
        ...lbUntrusted.slice(0, 6),
        ...['X-Forwarded-Host', 'a"b\\c', 'X-Forwarded-Port', '443'],
        ...['Forwarded', 'for=203.0.113.7; proto=https; httpproto=http/1.1'],
      ],
    },
    {
      desc: 'prefix sets X-Forwarded-Prefix, replacing a trusted client one',
      ctx: { ...trusted, prefix: '/api' },
      raw: ['Host', 'a.example', 'X-Forwarded-Prefix', '/outer'],
      want: [
        'Host',
        'a.example',
        ...['X-Forwarded-For', '10.0.0.2', 'X-Real-IP', '198.51.100.9', 'X-Forwarded-Proto', 'https'],
        ...['X-Forwarded-Host', 'a.example', 'X-Forwarded-Port', '443', 'X-Forwarded-Prefix', '/api'],
        ...['Forwarded', 'for=10.0.0.2; proto=https; httpproto=http/1.1'],
      ],
    },
    {
      desc: 'host override replaces Host in place; X-Forwarded-Host keeps the client one',
      ctx: { hostHeader: 'backend.internal' },
      raw: ['Accept', '*/*', 'host', 'a.example', 'X-Kept', '1'],
      want: ['Accept', '*/*', 'host', 'backend.internal', 'X-Kept', '1', ...lbUntrusted],
    },
    {
      desc: 'duplicate Host: only the first survives',
      raw: ['Host', 'a.example', 'Host', 'b.example'],
      want: ['Host', 'a.example', ...lbUntrusted],
    },
    {
      desc: 'no Host (HTTP/1.0): none invented, no X-Forwarded-Host, no host= in Forwarded',
      raw: ['Accept', '*/*'],
      want: [
        'Accept',
        '*/*',
        ...lbUntrusted.slice(0, 6),
        ...['X-Forwarded-Port', '443', 'Forwarded', 'for=203.0.113.7; proto=https; httpproto=http/1.1'],
      ],
    },
    {
      desc: 'no Host with an override: Host added',
      ctx: { hostHeader: 'backend.internal' },
      raw: ['Accept', '*/*'],
      want: [
        'Accept',
        '*/*',
        'Host',
        'backend.internal',
        ...lbUntrusted.slice(0, 6),
        ...['X-Forwarded-Port', '443', 'Forwarded', 'for=203.0.113.7; proto=https; httpproto=http/1.1'],
      ],
    },
    {
      desc: 'request id: client ones replaced by exactly one',
      ctx: { requestIdHeader: 'x-request-id', requestId: 'lb-1' },
      raw: ['X-Request-ID', 'client-1', 'Host', 'a.example', 'x-request-id', 'client-2'],
      want: ['Host', 'a.example', ...lbUntrusted, 'x-request-id', 'lb-1'],
    },
    {
      desc: 'request id off: a client x-request-id passes through',
      raw: ['Host', 'a.example', 'X-Request-Id', 'client-1'],
      want: ['Host', 'a.example', 'X-Request-Id', 'client-1', ...lbUntrusted],
    },
    {
      desc: 'duplicates of ordinary headers preserved in order',
      raw: ['Host', 'a.example', 'Cookie', 'a=1', 'X-Dup', '1', 'cookie', 'b=2', 'X-Dup', '2'],
      want: [
        'Host',
        'a.example',
        'Cookie',
        'a=1',
        'X-Dup',
        '1',
        'cookie',
        'b=2',
        'X-Dup',
        '2',
        ...lbUntrusted,
      ],
    },
    {
      desc: 'a client certificate header from the client is dropped, even from a trusted proxy',
      ctx: { ...trusted, certHeaders: new Set(['x-client-dn']) },
      raw: ['Host', 'a.example', 'X-Client-DN', 'CN=forged', 'x-client-dn', 'CN=forged2'],
      want: ['Host', 'a.example', ...lbTrusted],
    },
    {
      desc: "the verified certificate's subject is added, after the Connection header's removals",
      ctx: {
        certHeaders: new Set(['x-client-dn']),
        certHeader: 'X-Client-DN',
        certValue: 'CN=client,O=Acme',
      },
      raw: ['Host', 'a.example', 'Connection', 'X-Client-DN', 'X-Client-DN', 'CN=forged'],
      want: ['Host', 'a.example', ...lbUntrusted, 'X-Client-DN', 'CN=client,O=Acme'],
    },
    {
      desc: 'odd input: empty values, weird case, trailing name without value',
      raw: ['hOsT', 'a.example', 'X-Empty', '', 'cOnNeCtIoN', '', 'X-Odd'],
      want: ['hOsT', 'a.example', 'X-Empty', '', ...lbUntrusted],
    },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => {
      const ctx: ForwardContext = { ...untrusted, ...c.ctx }
      const input = c.raw.slice()
      const got = buildUpstreamHeaders(c.raw, ctx)
      assert.deepEqual(pairs(got), pairs(c.want))
      assert.deepEqual(c.raw, input, 'input not mutated')
    })
  }
})

test('buildUpstreamHeaders never emits a header undici rejects', () => {
  const forbidden = new Set(['connection', 'keep-alive', 'upgrade', 'expect', 'transfer-encoding'])
  const raw = [
    'Connection',
    'Upgrade, Keep-Alive, Transfer-Encoding, Expect',
    'CONNECTION',
    'close',
    'Upgrade',
    'h2c',
    'Keep-Alive',
    '1',
    'Expect',
    '100-continue',
    'Transfer-Encoding',
    'gzip, chunked',
  ]
  for (const ctx of [untrusted, trusted]) {
    const got = buildUpstreamHeaders(raw, ctx)
    for (let i = 0; i < got.length; i += 2) assert.ok(!forbidden.has((got[i] ?? '').toLowerCase()), got[i])
  }
})

test('filterResponseHeaders', async (t) => {
  const b = (s: string): Buffer => Buffer.from(s, 'latin1')
  const cases: { desc: string; raw: (Buffer | string)[]; want: string[] }[] = [
    {
      desc: 'hop-by-hop removed, Buffers decoded, set-cookie duplicates kept',
      raw: [
        b('Content-Type'),
        b('text/html'),
        b('Connection'),
        b('keep-alive'),
        b('Keep-Alive'),
        b('timeout=5'),
        b('Transfer-Encoding'),
        b('chunked'),
        b('Set-Cookie'),
        b('a=1'),
        b('Proxy-Connection'),
        b('close'),
        b('Upgrade'),
        b('h2c'),
        b('Trailer'),
        b('X-T'),
        b('TE'),
        b('trailers'),
        b('Set-Cookie'),
        b('b=2'),
      ],
      want: ['Content-Type', 'text/html', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'],
    },
    {
      desc: 'names listed in the response Connection removed',
      raw: ['X-Internal', '1', 'Connection', 'X-Internal, x-debug', 'x-debug', '2', 'Server', 'up'],
      want: ['Server', 'up'],
    },
    {
      desc: 'latin1 bytes survive',
      raw: [b('X-Name'), Buffer.from([0x63, 0x61, 0x66, 0xe9])],
      want: ['X-Name', 'café'],
    },
    { desc: 'empty', raw: [], want: [] },
    { desc: 'odd trailing element ignored', raw: ['A', '1', 'B'], want: ['A', '1'] },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => assert.deepEqual(filterResponseHeaders(c.raw), c.want))
  }
})

test('clientAddress', async (t) => {
  const proxies = new CidrSet(['10.0.0.0/8', '::1', 'fd00::/8'])
  const cases: { desc: string; peer: string; xff: string | undefined; want: string }[] = [
    { desc: 'untrusted peer ignores XFF', peer: '203.0.113.7', xff: '1.1.1.1', want: '203.0.113.7' },
    { desc: 'trusted peer without XFF', peer: '10.0.0.2', xff: undefined, want: '10.0.0.2' },
    { desc: 'trusted peer with empty XFF', peer: '10.0.0.2', xff: '', want: '10.0.0.2' },
    { desc: 'one hop', peer: '10.0.0.2', xff: '198.51.100.9', want: '198.51.100.9' },
    {
      desc: 'rightmost untrusted wins',
      peer: '10.0.0.2',
      xff: '6.6.6.6, 198.51.100.9, 10.0.0.3',
      want: '198.51.100.9',
    },
    { desc: 'all trusted: leftmost', peer: '10.0.0.2', xff: '10.0.0.5, 10.0.0.4', want: '10.0.0.5' },
    { desc: 'garbage stops the walk', peer: '10.0.0.2', xff: '1.1.1.1, unknown, 10.0.0.4', want: '10.0.0.4' },
    { desc: 'garbage first stops at the peer', peer: '10.0.0.2', xff: 'unknown', want: '10.0.0.2' },
    {
      desc: 'blank members skipped',
      peer: '10.0.0.2',
      xff: ' 198.51.100.9 ,, ,10.0.0.4,',
      want: '198.51.100.9',
    },
    {
      desc: 'ports and brackets',
      peer: '10.0.0.2',
      xff: '198.51.100.9:5000, [fd00::1]:80',
      want: '198.51.100.9',
    },
    { desc: 'bracketed untrusted IPv6', peer: '10.0.0.2', xff: '[2001:db8::9]:443', want: '2001:db8::9' },
    { desc: 'bare IPv6', peer: '::1', xff: '2001:db8::9, fd00::2', want: '2001:db8::9' },
    {
      desc: 'mapped peer is trusted and unmapped',
      peer: '::ffff:10.0.0.2',
      xff: '::ffff:1.2.3.4',
      want: '1.2.3.4',
    },
    {
      desc: 'mapped untrusted peer returned dotted',
      peer: '::ffff:203.0.113.7',
      xff: '1.1.1.1',
      want: '203.0.113.7',
    },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => assert.equal(clientAddress(c.peer, c.xff, proxies), c.want))
  }
})

test('findHeader and joinHeader', async (t) => {
  const raw = ['Host', 'a', 'X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'X-@', 'at', 'Odd']
  const cases = [
    { desc: 'first value, any case', name: 'x-forwarded-for', find: '1.1.1.1', join: '1.1.1.1, 2.2.2.2' },
    { desc: 'single', name: 'host', find: 'a', join: 'a' },
    { desc: 'absent', name: 'cookie', find: undefined, join: undefined },
    { desc: 'non-letters compared exactly', name: 'x-`', find: undefined, join: undefined },
    { desc: 'non-letter match', name: 'x-@', find: 'at', join: 'at' },
    { desc: 'trailing name without value ignored', name: 'odd', find: undefined, join: undefined },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => {
      assert.equal(findHeader(raw, c.name), c.find)
      assert.equal(joinHeader(raw, c.name), c.join)
    })
  }
})

test('acceptRequestId', async (t) => {
  const cases = [
    { desc: 'absent', value: undefined, want: false },
    { desc: 'empty', value: '', want: false },
    { desc: 'uuid', value: '3f1c1f9e-8a4e-4b8e-9d5e-0c1f2a3b4c5d', want: true },
    { desc: 'one char', value: 'x', want: true },
    { desc: '200 chars', value: 'a'.repeat(200), want: true },
    { desc: '201 chars', value: 'a'.repeat(201), want: false },
    { desc: 'space', value: 'a b', want: false },
    { desc: 'control char', value: 'a\tb', want: false },
    { desc: 'non-ASCII', value: 'caf\u00e9', want: false },
    { desc: 'DEL', value: 'a\u007f', want: false },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => assert.equal(acceptRequestId(c.value), c.want))
  }
})

test('newRequestId is a unique random UUID (issue 20 bug 7: fabio generates UUIDs)', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 10_000; i++) {
    const id = newRequestId()
    assert.ok(acceptRequestId(id), id)
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    seen.add(id)
  }
  assert.equal(seen.size, 10_000)
})
