/**
 * TCP mode: an accepted client socket really reads through onread (src/proxy/tcp.ts useOnread), not through the
 * 'data' fallback, which would relay the same bytes (so the relay tests alone cannot tell) with a fresh buffer
 * per read. Checked on a live session: the session says so, and the client socket has no 'data' listener.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { echoSession } from '../helpers/tcp-echo.js'

test('tcp: a relayed client socket reads through onread', async () => {
  const { session, close } = await echoSession()
  try {
    assert.equal(session.clientOnread, true)
    assert.equal(session.client.listenerCount('data'), 0)
  } finally {
    await close()
  }
})
