/**
 * TCP mode: the relay takes over both sockets' reads and writes straight to the other socket's handle
 * (src/proxy/tcp.ts Relay, streamWrap), not through Writable, which would relay the same bytes (so the relay
 * tests alone cannot tell). Checked on a live session both ways: once it is established, both directions are
 * Relays and neither of its sockets' write() is called while bytes keep flowing.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { until } from '../helpers/lb.js'
import { echoSession } from '../helpers/tcp-echo.js'
import { streamWrap } from '../../src/proxy/tcp.js'

test('tcp: relayed bytes go to the sockets directly, both ways', async () => {
  assert.ok(
    streamWrap !== null,
    "Node's stream_wrap binding not found: the relay falls back to socket.write()",
  )
  const { client, session, close } = await echoSession()
  try {
    assert.ok(session.server !== null)
    // Both reads are the relay's (src/proxy/tcp.ts Relay), not Node's onread callback path.
    assert.ok(session.toClient !== null, 'server → client relay not started')
    assert.ok(session.toServer !== null, 'client → server relay not started')
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
    assert.deepEqual(writes, [])
  } finally {
    await close()
  }
})
