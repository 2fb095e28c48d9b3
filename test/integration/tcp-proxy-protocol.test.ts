/** PROXY protocol accepted on TCP and HTTP listeners, and sent (v1/v2) to TCP servers. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { startLb, service, route, tcpListener, portOf } from '../helpers/lb.js'
import { startUpstream } from '../helpers/upstream.js'
import { readAll, startTcp } from '../helpers/tls.js'
import { encodeProxyV1, encodeProxyV2, parseProxyHeader } from '../../src/net/proxy-protocol.js'

for (const [inVersion, outVersion] of [
  ['v2', 'v1'],
  ['v1', 'v2'],
] as const) {
  test(`proxy protocol: ${inVersion} in on a tcp listener, ${outVersion} out to the server with the advertised client`, async () => {
    // Echoes everything it received (PROXY header included) when the client finishes.
    const backend = await startTcp((s) => {
      const chunks: Buffer[] = []
      s.on('data', (d: Buffer) => chunks.push(d))
      s.on('end', () => s.end(Buffer.concat(chunks)))
    })
    const lb = await startLb((c) => {
      c.listeners = [tcpListener('pp', 'pp', { acceptProxy: true })]
      c.services = [{ ...service('pp', [backend.port]), sendProxy: outVersion }]
    })
    try {
      const s = connect({ host: '127.0.0.1', port: portOf(lb, 'pp'), allowHalfOpen: true })
      const all = readAll(s)
      const advertised = {
        srcAddress: '203.0.113.9',
        srcPort: 51000,
        dstAddress: '198.51.100.1',
        dstPort: 8443,
      }
      s.write(inVersion === 'v1' ? encodeProxyV1(advertised) : encodeProxyV2(advertised))
      s.end('payload')
      const got = await all
      const r = parseProxyHeader(got)
      assert.equal(r.status, 'ok')
      if (r.status !== 'ok') return
      assert.equal(r.header.version, outVersion === 'v1' ? 1 : 2)
      assert.equal(r.header.srcAddress, '203.0.113.9')
      assert.equal(r.header.srcPort, 51000)
      assert.equal(r.header.dstAddress, '198.51.100.1')
      assert.equal(got.subarray(r.length).toString(), 'payload')
      await new Promise((r) => setImmediate(r))
      assert.equal(lb.access.at(-1)?.ci, '203.0.113.9')
    } finally {
      await lb.close()
      await backend.close()
    }
  })
}

test('proxy protocol: a missing header closes the connection', async () => {
  const backend = await startTcp((s) => s.end('should not see this'))
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('pp', 'pp', { acceptProxy: true })]
    c.services = [service('pp', [backend.port])]
  })
  try {
    const s = connect({ host: '127.0.0.1', port: portOf(lb, 'pp') })
    const all = readAll(s)
    s.write('GET / HTTP/1.1\r\n\r\n')
    assert.equal((await all).length, 0)
  } finally {
    await lb.close()
    await backend.close()
  }
})

test('proxy protocol: accept_proxy on an HTTP listener makes the advertised address the client', async () => {
  const up = await startUpstream('a')
  const lb = await startLb((c) => {
    c.listeners = [{ name: 'web', host: '127.0.0.1', port: 0, mode: 'http', acceptProxy: true }]
    c.services = [service('web', [up.port])]
    c.routes = [route('', '/', 'web')]
  })
  try {
    const s = connect({ host: '127.0.0.1', port: portOf(lb, 'web') })
    const all = readAll(s)
    s.write(encodeProxyV2({ srcAddress: '192.0.2.44', srcPort: 1234, dstAddress: '127.0.0.1', dstPort: 80 }))
    s.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')
    const res = (await all).toString()
    assert.match(res, /^HTTP\/1\.1 200/)
    assert.equal(up.requests[0]?.headers['x-forwarded-for'], '192.0.2.44')
    assert.equal(lb.access.at(-1)?.ci, '192.0.2.44')
  } finally {
    await lb.close()
    await up.close()
  }
})
