/**
 * An upstream whose body is longer than its Content-Length: the client gets exactly Content-Length bytes, the
 * surplus is never relayed, and it must not be read as the next response on that kept-alive connection (response
 * smuggling): the next request gets its own answer. No leak.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { get } from '../helpers/client.js'
import { assertNoLeak, startFaultRig, type RawRequest } from './upstream-raw.js'

const smuggled = 'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nSMUGGLED'

/** `/long` answers 5 bytes declared, then a whole extra response; everything else answers its own path. */
function overrun(s: Socket, req: RawRequest): void {
  const path = req.head.split(' ')[1] ?? ''
  if (path === '/long') s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello' + smuggled)
  else s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${path.length}\r\n\r\n${path}`)
}

test('upstream body longer than Content-Length → surplus dropped, not taken as the next response; no leak', async () => {
  const { lb, agent, close } = await startFaultRig(overrun, { retries: 2, maxConnections: 1 })
  const round = async (): Promise<void> => {
    const r = await get(lb.url, '/long', { agent })
    assert.equal(r.status, 200)
    assert.equal(r.body, 'hello')
    const next = await get(lb.url, '/next', { agent })
    assert.equal(next.status, 200)
    assert.equal(next.body, '/next', 'the next request got its own response, not the surplus')
  }
  try {
    await round()
    assert.ok(
      lb.access.every((l) => !String(l.reason ?? '').includes('SMUGGLED')),
      'nothing of the surplus reached a client',
    )
    await assertNoLeak(round)
  } finally {
    await close()
  }
})
