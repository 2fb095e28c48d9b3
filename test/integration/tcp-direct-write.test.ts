/**
 * TCP mode: the relay writes straight to the other socket's handle (src/proxy/tcp.ts streamWrap), not through
 * Writable, which would relay the same bytes (so the relay tests alone cannot tell). Checked on a live session
 * both ways: once it is established, neither of its sockets' write() is called while bytes keep flowing.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf, until } from '../helpers/lb.js'
import { startTcp } from '../helpers/tls.js'
import { TcpListener, streamWrap } from '../../src/proxy/tcp.js'

test('tcp: relayed bytes go to the sockets directly, both ways', async () => {
  assert.ok(
    streamWrap !== null,
    "Node's stream_wrap binding not found: the relay falls back to socket.write()",
  )
  const backend = await startTcp((s: Socket) => s.pipe(s))
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('echo', 'echo')]
    c.services = [service('echo', [backend.port])]
  })
  const client = connect({ host: '127.0.0.1', port: portOf(lb, 'echo') })
  try {
    await once(client, 'connect')
    let got = ''
    client.on('data', (b: Buffer) => (got += b.toString()))
    client.write('ping')
    await until(() => got === 'ping', 'first echo')
    const listener = [...lb.worker.listeners.values()].find((l) => l.info.name === 'echo')
    assert.ok(listener instanceof TcpListener)
    const session = [...listener.sessions][0]
    assert.ok(session !== undefined && session.server !== null)
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
    assert.equal(got, 'pingpongdone')
    assert.deepEqual(writes, [])
  } finally {
    client.destroy()
    await lb.close()
    await backend.close()
  }
})
