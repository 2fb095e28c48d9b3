/**
 * PROXY protocol on checks (haproxy `check-send-proxy`): the header goes first, before TLS and the request,
 * against a raw TCP server that drops any connection not starting with a valid header. v2 sends LOCAL (what
 * haproxy sends on its own connections), v1 the check connection's own addresses.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatReason, type ProbeSpec, type ProbeTarget } from '../../src/health/probes.js'
import { probe } from '../../src/health/run-probe.js'
import { ca } from '../helpers/tls.js'
import { startProxyOnlyServer } from '../helpers/proxy-server.js'
import { until } from '../helpers/lb.js'

const base: ProbeSpec = {
  type: 'tcp',
  timeout: 2_000,
  http: { method: 'GET', path: '/healthz', host: '', expect: [{ lo: 200, hi: 200 }] },
  tls: { ca, skipVerify: false, sni: 'localhost' },
}
const now = (): number => performance.now()

function at(port: number): ProbeTarget {
  return { address: '127.0.0.1', port, hostname: '127.0.0.1' }
}

const cases = [
  { desc: 'tcp, v2 → LOCAL', spec: { ...base, proxy: 'v2' }, tls: false, want: 'L4OK', local: true },
  { desc: 'tcp, v1 → own addresses', spec: { ...base, proxy: 'v1' }, tls: false, want: 'L4OK', local: false },
  {
    desc: 'http, v2 → LOCAL then the request',
    spec: { ...base, type: 'http', proxy: 'v2' },
    tls: false,
    want: 'L7OK 200',
    local: true,
  },
  {
    desc: 'https, v1 → header before the TLS handshake',
    spec: { ...base, type: 'https', proxy: 'v1' },
    tls: true,
    want: 'L7OK 200',
    local: false,
  },
  {
    desc: 'https, v2',
    spec: { ...base, type: 'https', proxy: 'v2' },
    tls: true,
    want: 'L7OK 200',
    local: true,
  },
] as const satisfies readonly { desc: string; spec: ProbeSpec; tls: boolean; want: string; local: boolean }[]

for (const c of cases) {
  test(`probe with PROXY header: ${c.desc}`, async () => {
    const server = await startProxyOnlyServer(c.tls)
    try {
      const r = await probe(c.spec, at(server.port), now)
      assert.equal(formatReason(r), c.want, r.detail)
      // A tcp check passes once the header is handed to the kernel; the server reads it right after.
      await until(() => server.seen.length === 1, 'header received')
      const h = server.seen[0]?.header
      assert.equal(h?.version, c.spec.proxy === 'v2' ? 2 : 1)
      if (c.local) {
        assert.equal(h?.command, 'local')
      } else {
        assert.equal(h?.command, 'proxy')
        assert.equal(h?.family, 'tcp4')
        assert.equal(h?.srcAddress, '127.0.0.1')
        assert.equal(h?.srcPort, server.seen[0]?.peerPort)
        assert.equal(h?.dstAddress, '127.0.0.1')
        assert.equal(h?.dstPort, server.port)
      }
    } finally {
      await server.close()
    }
  })
}

test('probe without a PROXY header fails against a server that requires one', async () => {
  const server = await startProxyOnlyServer(false)
  try {
    const r = await probe({ ...base, type: 'http' }, at(server.port), now)
    assert.equal(r.reason, 'L7RSP')
    assert.equal(server.seen.length, 0)
  } finally {
    await server.close()
  }
})
