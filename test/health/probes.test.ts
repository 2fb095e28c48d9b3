/** Probes against real local servers: every reason haproxy reports, with TLS verified by the fixture CA. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mock } from 'node:test'
import { once } from 'node:events'
import { formatReason, type ProbeSpec } from '../../src/health/probes.js'
import { probe } from '../../src/health/run-probe.js'
import { startUpstream, deadPort } from '../helpers/upstream.js'
import { ca, startTcp, startTlsHttp } from '../helpers/tls.js'

const base: ProbeSpec = {
  type: 'tcp',
  timeout: 2_000,
  http: { method: 'GET', path: '/healthz', host: '', expect: [{ lo: 200, hi: 200 }] },
  tls: { ca: '', skipVerify: false, sni: '' },
}
const now = (): number => performance.now()
const at = (port: number, hostname = '127.0.0.1') => ({ address: '127.0.0.1', port, hostname })

test('probe tcp: L4OK when listening, L4CON when refused', async () => {
  const up = await startUpstream('a')
  try {
    const ok = await probe(base, at(up.port), now)
    assert.equal(ok.reason, 'L4OK')
    assert.equal(ok.ok, true)
    assert.ok(ok.duration >= 0)
    const refused = await probe(base, at(await deadPort()), now)
    assert.equal(refused.reason, 'L4CON')
    assert.equal(refused.ok, false)
    assert.match(refused.detail, /ECONNREFUSED/)
  } finally {
    await up.close()
  }
})

test('probe http: L7OK on an expected status, L7STS 503 otherwise; method, path and Host are sent', async () => {
  const up = await startUpstream('a', (req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 503)
    res.end()
  })
  try {
    const spec: ProbeSpec = { ...base, type: 'http', http: { ...base.http, host: 'api.test' } }
    const ok = await probe(spec, at(up.port), now)
    assert.equal(formatReason(ok), 'L7OK 200')
    assert.equal(up.requests[0]?.headers.host, 'api.test')
    assert.equal(up.requests[0]?.method, 'GET')
    const bad = await probe({ ...spec, http: { ...spec.http, path: '/other' } }, at(up.port), now)
    assert.equal(formatReason(bad), 'L7STS 503')
    assert.equal(bad.ok, false)
    const range = await probe(
      { ...spec, http: { ...spec.http, path: '/other', expect: [{ lo: 500, hi: 599 }] } },
      at(up.port),
      now,
    )
    assert.equal(range.ok, true)
  } finally {
    await up.close()
  }
})

test('probe http: L7RSP for a non-HTTP answer', async () => {
  const srv = await startTcp((s) => s.end('SSH-2.0-nope\r\n'))
  try {
    const r = await probe({ ...base, type: 'http' }, at(srv.port), now)
    assert.equal(r.reason, 'L7RSP')
  } finally {
    await srv.close()
  }
})

test('probe https: verified against the fixture CA (apiserver GET /healthz 200), skip_verify, bad CA', async () => {
  const api = await startTlsHttp('api')
  try {
    const https: ProbeSpec = { ...base, type: 'https', tls: { ca, skipVerify: false, sni: '' } }
    assert.equal(formatReason(await probe(https, at(api.port), now)), 'L7OK 200')
    // Server name verified: localhost is in the certificate, wrong.test is not.
    const named = { ...https, tls: { ...https.tls, sni: 'localhost' } }
    assert.equal((await probe(named, at(api.port), now)).reason, 'L7OK')
    const wrong = await probe({ ...https, tls: { ...https.tls, sni: 'wrong.test' } }, at(api.port), now)
    assert.equal(wrong.reason, 'L6RSP')
    // System store: the self-signed CA is unknown → TLS failure; skip_verify accepts it.
    assert.equal(
      (await probe({ ...https, tls: { ca: '', skipVerify: false, sni: '' } }, at(api.port), now)).reason,
      'L6RSP',
    )
    assert.equal(
      (await probe({ ...https, tls: { ca: '', skipVerify: true, sni: '' } }, at(api.port), now)).ok,
      true,
    )
    api.status.code = 500
    assert.equal(formatReason(await probe(https, at(api.port), now)), 'L7STS 500')
  } finally {
    await api.close()
  }
})

test('probe timeouts (mock timers): L7TOUT when no status line comes, L6TOUT when TLS never starts', async () => {
  const silent = await startTcp(() => {})
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    const accepted = once(silent.server, 'connection')
    const p = probe({ ...base, type: 'http', timeout: 1_000 }, at(silent.port), now)
    await accepted
    await new Promise((r) => setImmediate(r))
    mock.timers.tick(1_000)
    const r = await p
    assert.equal(r.reason, 'L7TOUT')
    const accepted2 = once(silent.server, 'connection')
    const p2 = probe(
      { ...base, type: 'https', timeout: 1_000, tls: { ca, skipVerify: false, sni: '' } },
      at(silent.port),
      now,
    )
    await accepted2
    await new Promise((r) => setImmediate(r))
    mock.timers.tick(1_000)
    assert.equal((await p2).reason, 'L6TOUT')
  } finally {
    mock.timers.reset()
    await silent.close()
  }
})
