/**
 * An HTTP/2 header list over `http.max_header_size` gets 431 and reaches no server, as an HTTP/1.1 head over it
 * does; the connection goes on (node:http2 only advertises SETTINGS_MAX_HEADER_LIST_SIZE, lb enforces it).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { closeSession, h2Connect, h2Request } from '../helpers/h2.js'

test('h2: a 8 KB header against max_header_size 4096 is 431; the next request on the connection is served', async () => {
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    const l = c.listeners[0]
    if (l !== undefined && l.mode === 'http') l.h2c = true
    c.http.maxHeaderSize = 4_096
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  const session = await h2Connect(lb.port, false)
  try {
    const big = await h2Request(session, { ':path': '/big', 'x-big': 'a'.repeat(8_000) })
    assert.equal(big.status, 431)
    assert.equal(up.requests.length, 0)
    const next = await h2Request(session, { ':path': '/small' })
    assert.equal(next.status, 200)
    assert.deepEqual(
      up.requests.map((r) => r.url),
      ['/small'],
    )
  } finally {
    await closeSession(session)
    await lb.close()
    await up.close()
  }
})
