/**
 * TCP mode inactivity timeouts of an established session (haproxy `timeout client/server/tunnel`): the session
 * closes once it has been idle for the limit, at most limit / 8 later (src/proxy/tcp/session.ts watchIdle), and relayed
 * bytes count as activity. Mock timers; real sockets.
 *
 * With LB_NODE_INTERNALS=off (src/net/node-internals.ts) there is no Relay: the session keeps Node's socket
 * timeouts, which run on Node's internal timer lists that node:test's mock timers do not drive. That fallback is
 * checked in real time with short limits: closed no earlier than the limit after the last relayed bytes, and
 * within a second after it.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf, until } from '../helpers/lb.js'
import { startTcp } from '../helpers/tls.js'
import { TcpListener } from '../../src/proxy/tcp/listener.js'
import { nodeInternals } from '../../src/net/node-internals.js'
import { setTimeout as delay } from 'node:timers/promises'

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

for (const c of nodeInternals.enabled ? cases : []) {
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

/** The fallback's limits (ms): the same cases at 1/16 of the time. */
const scale = 1 / 16

for (const c of nodeInternals.enabled ? [] : cases) {
  const limit = 8_000 * scale
  test(`tcp (internals off): idle for timeout ${c.name} (${limit} ms) closes within a second after it`, async () => {
    const backend = await startTcp((s) => s.pipe(s))
    const timeouts = {
      client: c.timeouts.client * scale,
      server: c.timeouts.server * scale,
      tunnel: c.timeouts.tunnel * scale,
    }
    const lb = await startLb((cfg) => {
      cfg.listeners = [tcpListener('idle', 'echo', { timeouts })]
      cfg.services = [service('echo', [backend.port])]
    })
    const listener = [...lb.worker.listeners.values()].find((l) => l.info.name === 'idle')
    assert.ok(listener instanceof TcpListener)
    try {
      const s = connect({ host: '127.0.0.1', port: portOf(lb, 'idle') })
      const closed = once(s, 'close').then(() => performance.now())
      s.on('error', () => {})
      await once(s, 'connect')
      await echo(s, 'ping')
      assert.equal(listener.sessions.size, 1)
      assert.equal(listener.sessions.values().next().value?.toClient, null, 'a Relay with internals off')
      await delay(limit / 2) // setup, not a pass condition: activity half-way through the limit
      await echo(s, 'still here')
      const active = performance.now()
      const idle = (await closed) - active
      assert.ok(idle >= limit - 20, `closed after ${Math.round(idle)} ms idle, limit ${limit} ms`)
      assert.ok(idle <= limit + 1_000, `closed after ${Math.round(idle)} ms idle, limit ${limit} ms`)
      assert.equal(listener.sessions.size, 0)
      await until(() => lb.access.length === 1, 'access log line')
      const line = lb.access[0]
      if (c.name === 'tunnel') {
        // Both sockets time out at the tunnel limit; the server's timer, last refreshed first, usually fires
        // first (watchIdle reports the client in this tie).
        assert.ok(
          (line?.ts === 'cD' && line.reason === 'client timeout') ||
            (line?.ts === 'sD' && line.reason === 'server timeout'),
          JSON.stringify(line),
        )
      } else {
        assert.equal(line?.ts, c.ts)
        assert.equal(line?.reason, c.reason)
      }
    } finally {
      await lb.close()
      for (const x of backend.sockets) x.destroy()
      await backend.close()
    }
  })
}
