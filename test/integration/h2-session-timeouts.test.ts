/**
 * HTTP/2 session timers from lb's client timeouts: a connection that opens no stream gets GOAWAY at
 * `http_request`, one whose streams are all done gets it at `keep_alive`; both then close.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { h2Request, startH2Lb } from '../helpers/h2.js'

test('no stream: GOAWAY at http_request; idle after a request: GOAWAY at keep_alive', async () => {
  const up = await startUpstream('u')
  const quiet = await startH2Lb(up.port, (c) => {
    // Long enough for the TLS handshake on a busy machine (the handshake counts against it too).
    c.http.timeouts.httpRequest = 1_000
  })
  const idle = await startH2Lb(up.port, (c) => {
    c.http.timeouts.keepAlive = 300
  })
  try {
    const q = quiet.end
    assert.equal(await q.goaway, 0)
    await q.closed
    const r = await h2Request(idle.session, { ':path': '/' })
    assert.equal(r.status, 200)
    const i = idle.end
    assert.equal(await i.goaway, 0)
    await i.closed
  } finally {
    await quiet.close()
    await idle.close()
    await up.close()
  }
})
