/**
 * TCP mode inactivity timeouts of an established session (haproxy `timeout client/server/tunnel`): the session
 * closes once it has been idle for the limit, at most limit / 8 later (src/proxy/tcp.ts watchIdle), and relayed
 * bytes count as activity. Mock timers; real sockets.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf, until } from '../helpers/lb.js'
import { startTcp } from '../helpers/tls.js'
import { TcpListener } from '../../src/proxy/tcp.js'

const cases = [
  {
    name: 'client',
    timeouts: { client: 8_000, server: 60_000, tunnel: 0 },
    ts: 'cD',
    reason: 'client timeout',
  },
  {
    name: 'server',
    timeouts: { client: 60_000, server: 8_000, tunnel: 0 },
    ts: 'sD',
    reason: 'server timeout',
  },
  // tunnel replaces both once connected: the 1 s client and server limits no longer apply.
  {
    name: 'tunnel',
    timeouts: { client: 1_000, server: 1_000, tunnel: 8_000 },
    ts: 'cD',
    reason: 'client timeout',
  },
] as const

async function echo(s: Socket, word: string): Promise<void> {
  let got = ''
  const onData = (d: Buffer): void => {
    got += d.toString()
  }
  s.on('data', onData)
  s.write(word)
  await until(() => got === word, `echo of ${word}`)
  s.off('data', onData)
}

for (const c of cases) {
  test(`tcp: an established session idle for timeout ${c.name} (8 s) closes between 8 and 9 s`, async () => {
    const backend = await startTcp((s) => s.pipe(s))
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
    const lb = await startLb((cfg) => {
      cfg.listeners = [tcpListener('idle', 'echo', { timeouts: { ...c.timeouts } })]
      cfg.services = [service('echo', [backend.port])]
    })
    const listener = [...lb.worker.listeners.values()].find((l) => l.info.name === 'idle')
    assert.ok(listener instanceof TcpListener)
    const seconds = (n: number): void => {
      for (let i = 0; i < n; i++) mock.timers.tick(1_000)
    }
    try {
      const s = connect({ host: '127.0.0.1', port: portOf(lb, 'idle') })
      let closed = false
      s.on('close', () => (closed = true))
      s.on('error', () => {})
      await once(s, 'connect')
      await echo(s, 'ping')
      assert.equal(listener.sessions.size, 1)
      seconds(5)
      await echo(s, 'still here') // activity at 5 s
      seconds(8) // 13 s: idle for 8 s, within the 1 s check period
      assert.equal(listener.sessions.size, 1, 'closed before the limit plus one check period')
      seconds(1) // 14 s: idle for 9 s
      assert.equal(listener.sessions.size, 0, 'still open 1 s after the limit')
      await until(() => closed, 'client connection closed')
      await until(() => lb.access.length === 1, 'access log line')
      assert.equal(lb.access[0]?.ts, c.ts)
      assert.equal(lb.access[0]?.reason, c.reason)
    } finally {
      mock.timers.reset()
      await lb.close()
      for (const x of backend.sockets) x.destroy()
      await backend.close()
    }
  })
}
