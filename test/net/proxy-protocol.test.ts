/** PROXY protocol v1/v2: parse what nginx/haproxy send, and round-trip what lb sends. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeProxyV1, encodeProxyV2, parseProxyHeader, V2_SIGNATURE } from '../../src/net/proxy-protocol.js'

const cases: { desc: string; input: Buffer; want: string }[] = [
  {
    desc: 'v1 TCP4',
    input: Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET /'),
    want: 'ok v1 proxy tcp4 192.0.2.1:56324 → 198.51.100.2:443 (45)',
  },
  {
    desc: 'v1 TCP6',
    input: Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n'),
    want: 'ok v1 proxy tcp6 2001:db8::1:1 → 2001:db8::2:2 (40)',
  },
  { desc: 'v1 UNKNOWN', input: Buffer.from('PROXY UNKNOWN\r\n'), want: 'ok v1 local unknown :0 → :0 (15)' },
  { desc: 'v1 partial', input: Buffer.from('PROXY TCP4 1.2.'), want: 'incomplete' },
  { desc: 'a prefix of PROXY', input: Buffer.from('PRO'), want: 'incomplete' },
  { desc: 'not PROXY', input: Buffer.from('GET / HTTP/1.1\r\n'), want: 'invalid no PROXY protocol header' },
  {
    desc: 'v1 bad address',
    input: Buffer.from('PROXY TCP4 1.2.3 4.5.6.7 1 2\r\n'),
    want: 'invalid v1 addresses or ports are malformed',
  },
  {
    desc: 'v2 TCP4 with a TLV',
    input: Buffer.concat([
      V2_SIGNATURE,
      Buffer.from([
        0x21, 0x11, 0x00, 0x10, 10, 0, 0, 1, 10, 0, 0, 2, 0x1f, 0x90, 0x01, 0xbb, 0x04, 0x00, 0x01, 0x00,
      ]),
    ]),
    want: 'ok v2 proxy tcp4 10.0.0.1:8080 → 10.0.0.2:443 (32)',
  },
  {
    desc: 'v2 LOCAL',
    input: Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]),
    want: 'ok v2 local unknown :0 → :0 (16)',
  },
  { desc: 'v2 partial', input: V2_SIGNATURE.subarray(0, 8), want: 'incomplete' },
  {
    desc: 'v2 wrong version',
    input: Buffer.concat([V2_SIGNATURE, Buffer.from([0x11, 0x11, 0x00, 0x00])]),
    want: 'invalid v2 version must be 2, got 1',
  },
]

for (const c of cases) {
  test(`parseProxyHeader: ${c.desc}`, () => {
    const r = parseProxyHeader(c.input)
    const got =
      r.status === 'ok'
        ? `ok v${r.header.version} ${r.header.command} ${r.header.family} ${r.header.srcAddress}:${r.header.srcPort} → ${r.header.dstAddress}:${r.header.dstPort} (${r.length})`
        : r.status === 'invalid'
          ? `invalid ${r.reason}`
          : 'incomplete'
    assert.equal(got, c.want)
  })
}

test('encode → parse round trip, v1 and v2, IPv4 (incl. mapped) and IPv6', () => {
  const addrs = [
    { srcAddress: '::ffff:192.0.2.7', srcPort: 40000, dstAddress: '127.0.0.1', dstPort: 8443 },
    { srcAddress: '2001:db8::7', srcPort: 1, dstAddress: '::1', dstPort: 65535 },
  ]
  for (const a of addrs) {
    for (const enc of [encodeProxyV1, encodeProxyV2]) {
      const r = parseProxyHeader(enc(a))
      assert.equal(r.status, 'ok')
      if (r.status !== 'ok') continue
      assert.equal(r.header.srcAddress, a.srcAddress.replace('::ffff:', ''))
      assert.equal(r.header.srcPort, a.srcPort)
      assert.equal(r.header.dstAddress, a.dstAddress)
      assert.equal(r.header.dstPort, a.dstPort)
    }
  }
  assert.equal(
    encodeProxyV1({ srcAddress: '1.2.3.4', srcPort: 1, dstAddress: '::1', dstPort: 2 }).toString(),
    'PROXY UNKNOWN\r\n',
  )
})
