/**
 * An upstream that refuses connections → 503 (haproxy: no server reachable) (connect error in the access log); once something listens on that
 * port again, the same pool serves it; nothing leaks over repeated refusals.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb, service, route } from '../helpers/lb.js'
import { get, newAgent } from '../helpers/client.js'
import { deadPort } from '../helpers/upstream.js'
import { assertNoLeak, startRawUpstream, type RawUpstream } from './upstream-raw.js'

test('upstream refuses → 503 with a logged reason; pool recovers when it listens again; no leak', async () => {
  const port = await deadPort()
  const lb = await startLb((cfg) => {
    cfg.services = [service('svc', [port], { retries: 1 })]
    cfg.routes = [route('', '/', 'svc')]
  })
  const agent = newAgent()
  let up: RawUpstream | null = null
  try {
    const r = await get(lb.url, '/x', { agent })
    assert.equal(r.status, 503, r.body)
    assert.match(String(lb.access.at(-1)?.reason), /cannot connect to svc\/s0: .*ECONNREFUSED/)
    assert.equal(lb.access.at(-1)?.retries, 1, 'the retry was tried and refused too')

    await assertNoLeak(async () => {
      assert.equal((await get(lb.url, '/x', { agent })).status, 503)
    })

    up = await startRawUpstream()
    await new Promise<void>((resolve) => {
      // Rebind the refused port (it was free a moment ago; another process taking it would fail listen).
      up?.server.close(() => up?.server.listen({ host: '127.0.0.1', port }, resolve))
    })
    const ok = await get(lb.url, '/x', { agent })
    assert.equal(ok.status, 200)
    assert.equal(ok.body, 'ok')
  } finally {
    await agent.close()
    await lb.close()
    await up?.close()
  }
})
