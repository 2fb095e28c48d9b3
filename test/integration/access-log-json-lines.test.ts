/**
 * The daemon's JSON access lines are formatted straight from the exchange (src/proxy/exchange.ts `jsonLine`):
 * they carry the same fields and values as the object lb hands a plain pino logger, for answered, failed,
 * redirected, retried and escaped-text requests.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream, deadPort } from '../helpers/upstream.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { rawExchange } from '../hardening/raw.js'

/** What differs between two runs (times, ports) or between the loggers' own fields (pino's `level`). */
const VARYING = ['time', 'cp', 'Tw', 'Tc', 'Tr', 'Ta', 'level']

function comparable(line: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(line)) {
    if (VARYING.includes(k)) continue
    out[k] = typeof v === 'string' ? v.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT') : v
  }
  return out
}

test('preformatted JSON access lines equal the logged objects', async () => {
  const up = await startUpstream('u')
  const dead = await deadPort()
  const edit = (c: Parameters<Parameters<typeof startLb>[0]>[0]): void => {
    c.log.access.enabled = true
    c.log.access.format = 'json'
    c.http.requestIdHeader = 'X-Request-Id'
    c.services = [
      service('svc', [up.port]),
      service('mixed', [dead, up.port], { balance: 'first', retries: 2 }),
    ]
    c.routes = [
      route('', '/', 'svc'),
      route('mixed.test', '/', 'mixed'),
      route('', '/old', '', { redirect: { code: 301, url: '/new' } }),
    ]
  }
  const plain = await startLb(edit)
  const fast = await startLb(edit, undefined, true)
  const run = async (lb: TestLb): Promise<void> => {
    await get(lb.url, '/a?b=c', { headers: { 'x-request-id': 'rid-1' } })
    await get(lb.url, '/x', { host: 'mixed.test', headers: { 'x-request-id': 'rid-2' } })
    await get(lb.url, '/old', { headers: { 'x-request-id': 'rid-3' } })
    await rawExchange(lb.port, 'GET /q"uo\\te HTTP/1.1\r\nHost: we"ird\r\nX-Request-Id: rid-4\r\n\r\n', 200)
  }
  try {
    await run(plain)
    await run(fast)
    const want = plain.access.map(comparable)
    const got = fast.access.map(comparable)
    assert.equal(got.length, 4)
    assert.deepEqual(got, want)
    for (const line of fast.access) {
      assert.equal(typeof line.time, 'string')
      assert.equal(typeof line.cp, 'number')
    }
  } finally {
    await plain.close()
    await fast.close()
    await up.close()
  }
})
