/**
 * TCP mode: an accepted client socket really reads through onread (src/proxy/tcp/session.ts onreadSlots), not through the
 * 'data' fallback, which would relay the same bytes (so the relay tests alone cannot tell) with a fresh buffer
 * per read. Checked on a live session: the session says so, and the client socket has no 'data' listener.
 * With LB_NODE_INTERNALS=off (src/net/node-internals.ts) it must read through 'data' instead.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { echoSession } from '../helpers/tcp-echo.js'
import { nodeInternals } from '../../src/net/node-internals.js'

const onread = nodeInternals.enabled

test(`tcp: a relayed client socket reads through ${onread ? 'onread' : "'data' (internals off)"}`, async () => {
  const { session, close } = await echoSession()
  try {
    assert.equal(session.clientOnread, onread)
    assert.equal(session.client.listenerCount('data'), onread ? 0 : 1)
  } finally {
    await close()
  }
})
