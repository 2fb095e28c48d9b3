/** An lb with one TCP listener `echo` in front of an echo server, a connected client, and its live session. */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf, until, type TestLb } from './lb.js'
import { startTcp } from './tls.js'
import { TcpListener } from '../../src/proxy/tcp/listener.js'
import type { TcpSession } from '../../src/proxy/tcp/session.js'

export interface EchoSession {
  readonly lb: TestLb
  readonly client: Socket
  /** The session of `client`, connected, after a first `ping` came back. */
  readonly session: TcpSession
  close(): Promise<void>
}

export async function echoSession(): Promise<EchoSession> {
  const backend = await startTcp((s: Socket) => s.pipe(s))
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('echo', 'echo')]
    c.services = [service('echo', [backend.port])]
  })
  const client = connect({ host: '127.0.0.1', port: portOf(lb, 'echo') })
  const close = async (): Promise<void> => {
    client.destroy()
    await lb.close()
    await backend.close()
  }
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
    return { lb, client, session, close }
  } catch (err) {
    await close()
    throw err
  }
}
