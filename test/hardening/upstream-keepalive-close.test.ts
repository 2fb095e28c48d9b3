/**
 * An upstream that closes a kept-alive connection when the next request arrives on it (a server whose idle
 * timeout fired as lb reused the socket). A POST must never be sent twice: the raw upstream counts every request
 * it received, over every connection. The POST gets 502 (reset logged); a GET in the same situation may be
 * replayed on a fresh connection and succeed. The pool recovers; no leak.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { get } from '../helpers/client.js'
import { answerOk, assertNoLeak, startFaultRig, type RawRequest } from './upstream-raw.js'

/** Answer the first request of each connection; drop the connection (FIN) when a second one arrives on it. */
function closeOnReuse(s: Socket, req: RawRequest): void {
  if (req.onSocket === 0) answerOk(s)
  else s.destroy()
}

/** The same with a TCP reset instead of a FIN (ECONNRESET rather than undici's "other side closed"). */
function resetOnReuse(s: Socket, req: RawRequest): void {
  if (req.onSocket === 0) answerOk(s)
  else s.resetAndDestroy()
}

function posts(reqs: readonly RawRequest[]): number {
  return reqs.filter((r) => r.method === 'POST').length
}

for (const [how, fault] of [
  ['closed', closeOnReuse],
  ['reset', resetOnReuse],
] as const) {
  test(`keep-alive connection ${how} on reuse: a POST is sent once and gets 502; a GET is replayed; no leak`, async () => {
    const { up, lb, agent, close } = await startFaultRig(fault, { retries: 2, maxConnections: 1 })
    try {
      assert.equal((await get(lb.url, '/warm', { agent })).body, 'ok')
      const r = await get(lb.url, '/post', { agent, method: 'POST', body: 'pay-once' })
      assert.equal(r.status, 502, r.body)
      assert.equal(posts(up.requests), 1, 'the POST reached the upstream exactly once')
      assert.match(String(lb.access.at(-1)?.reason), /closed early|svc\/s0/)

      // GET on a reused connection that dies: replayed on a new one (idempotent, no body).
      assert.equal((await get(lb.url, '/warm2', { agent })).body, 'ok')
      const g = await get(lb.url, '/get', { agent })
      assert.equal(g.status, 200, g.body)

      let sent = posts(up.requests)
      await assertNoLeak(async () => {
        await get(lb.url, '/warm', { agent })
        const p = await get(lb.url, '/post', { agent, method: 'POST', body: 'pay-once' })
        assert.ok(p.status === 502 || p.status === 200, String(p.status))
        sent++
        assert.equal(posts(up.requests), sent, 'every POST reached the upstream exactly once')
      })
    } finally {
      await close()
    }
  })
}
