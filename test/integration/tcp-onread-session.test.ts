/**
 * TCP mode: an accepted client socket really reads through onread (src/proxy/tcp.ts useOnread), not through the
 * 'data' fallback, which would relay the same bytes (so the relay tests alone cannot tell) with a fresh buffer
 * per read. Checked on a live session: the session says so, and the client socket has no 'data' listener.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf, until } from '../helpers/lb.js'
import { startTcp } from '../helpers/tls.js'
import { TcpListener } from '../../src/proxy/tcp.js'

test('tcp: a relayed client socket reads through onread', async () => {
  const backend = await startTcp((s: Socket) => s.pipe(s))
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('echo', 'echo')]
    c.services = [service('echo', [backend.port])]
  })
  const client = connect({ host: '127.0.0.1', port: portOf(lb, 'echo') })
  try {
    await once(client, 'connect')
    client.write('ping')
    const [echo] = (await once(client, 'data')) as [Buffer]
    assert.equal(echo.toString(), 'ping')
    const listener = [...lb.worker.listeners.values()].find((l) => l.info.name === 'echo')
    assert.ok(listener instanceof TcpListener)
    await until(() => listener.sessions.size === 1, 'one session')
    const session = [...listener.sessions][0]
    assert.ok(session !== undefined && session.connected)
    assert.equal(session.clientOnread, true)
    assert.equal(session.client.listenerCount('data'), 0)
  } finally {
    client.destroy()
    await lb.close()
    await backend.close()
  }
})
