/**
 * TCP mode: the relay takes over both sockets' reads and writes straight to the other socket's handle
 * (src/proxy/tcp/relay.ts Relay, streamWrap), not through Writable, which would relay the same bytes (so the relay
 * tests alone cannot tell). Checked on a live session both ways: once it is established, both directions are
 * Relays and neither of its sockets' write() is called while bytes keep flowing. With LB_NODE_INTERNALS=off
 * (src/net/node-internals.ts) the same session must take the fallback: no Relay, every relayed chunk through
 * write().
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { until } from '../helpers/lb.js'
import { echoSession } from '../helpers/tcp-echo.js'
import { nodeInternals } from '../../src/net/node-internals.js'

const direct = nodeInternals.enabled

test(`tcp: relayed bytes go ${direct ? 'to the sockets directly' : 'through write() (internals off)'}, both ways`, async () => {
  if (direct)
    assert.ok(
      nodeInternals.streamWrap !== null && nodeInternals.unrefTimer,
      "Node's stream_wrap binding or _unrefTimer not found: the relay falls back to socket.write()",
    )
  const { client, session, close } = await echoSession()
  try {
    assert.ok(session.server !== null)
    // Both reads are the relay's (src/proxy/tcp/relay.ts Relay), not Node's onread callback path.
    assert.equal(session.toClient !== null, direct, 'server → client Relay')
    assert.equal(session.toServer !== null, direct, 'client → server Relay')
    let got = ''
    client.on('data', (b: Buffer) => (got += b.toString()))
    const writes: string[] = []
    for (const [side, socket] of [
      ['server', session.server],
      ['client', session.client],
    ] as const) {
      const write = socket.write.bind(socket) as (chunk: Buffer) => boolean
      socket.write = ((chunk: Buffer) => {
        writes.push(side)
        return write(chunk)
      }) as typeof socket.write
    }
    for (const word of ['pong', 'done']) {
      client.write(word)
      await until(() => got.endsWith(word), `echo of ${word}`)
    }
    assert.equal(got, 'pongdone')
    assert.deepEqual(writes, direct ? [] : ['server', 'client', 'server', 'client'])
  } finally {
    await close()
  }
})
