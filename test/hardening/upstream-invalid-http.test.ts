/**
 * An upstream that answers with bytes that are not a valid HTTP/1.1 response → 502 with the parser's reason in
 * the access log; the pool recovers (the next request, answered properly, is 200) and nothing leaks.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { get } from '../helpers/client.js'
import { assertNoLeak, startFaultRig } from './upstream-raw.js'

const cases: { desc: string; bytes: string }[] = [
  { desc: 'not HTTP at all', bytes: 'NOT HTTP AT ALL\r\n\r\n' },
  { desc: 'HTTP/2 preface', bytes: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' },
  { desc: 'status code not 3 digits', bytes: 'HTTP/1.1 20 OK\r\ncontent-length: 0\r\n\r\n' },
  { desc: 'space in a header name', bytes: 'HTTP/1.1 200 OK\r\nbad name: x\r\ncontent-length: 0\r\n\r\n' },
  { desc: 'NUL in a header value', bytes: 'HTTP/1.1 200 OK\r\nx: a\0b\r\ncontent-length: 0\r\n\r\n' },
  {
    desc: 'two different Content-Lengths',
    bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab',
  },
  {
    desc: 'Content-Length and Transfer-Encoding',
    bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
  },
  { desc: 'negative Content-Length', bytes: 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n' },
  { desc: 'obs-fold in a header', bytes: 'HTTP/1.1 200 OK\r\nx: a\r\n b\r\ncontent-length: 0\r\n\r\n' },
]

for (const c of cases) {
  test(`upstream sends invalid HTTP (${c.desc}) → 502 with a logged reason; pool recovers; no leak`, async () => {
    const fault = (s: Socket): void => {
      s.end(c.bytes)
    }
    const { up, lb, agent, close } = await startFaultRig(fault, { retries: 0 })
    try {
      const r = await get(lb.url, '/x', { agent })
      assert.equal(r.status, 502, r.body)
      const line = lb.access.at(-1)
      assert.equal(line?.status, 502)
      assert.match(String(line?.reason), /invalid response from svc\/s0|closed early/)

      up.fault = null
      const ok = await get(lb.url, '/x', { agent })
      assert.equal(ok.status, 200)
      assert.equal(ok.body, 'ok')

      up.fault = fault
      await assertNoLeak(async () => {
        assert.equal((await get(lb.url, '/x', { agent })).status, 502)
      })
    } finally {
      await close()
    }
  })
}
