/**
 * A server connection whose response ended while it was paused (the client was not reading when the last bytes
 * came, in the same read as the end) goes back to the pool reading again: its next request gets its response,
 * and the server closing it while idle is noticed. Before the fix the socket stayed paused, the next response was
 * never read and the request ended in a 504 after `timeouts.server` (seen once in CI with the 100 MiB streaming
 * test).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { ConnPool, type PoolUser } from '../../src/proxy/h1/pool.js'
import type { UpstreamConn } from '../../src/proxy/h1/upstream-conn.js'
import type { ResponseHead } from '../../src/net/h1/parse.js'
import { Deadlines } from '../../src/proxy/timers.js'

const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'

/** Answers each request head on a connection with RESPONSE, in one write. */
async function server(): Promise<{ srv: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = []
  const srv = createServer((s) => {
    sockets.push(s)
    let buf = ''
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1')
      let i
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        buf = buf.slice(i + 4)
        s.write(RESPONSE)
      }
    })
    s.on('error', () => undefined)
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  return { srv, port: (srv.address() as { port: number }).port, sockets }
}

/** A pool user that pauses the connection on every body read (a client that does not keep up). */
class Reader implements PoolUser {
  conn: UpstreamConn | null = null
  status = 0
  body = ''
  readonly done: Promise<string>
  finish!: (outcome: string) => void
  constructor() {
    this.done = new Promise((resolve) => (this.finish = resolve))
  }
  onConnection(conn: UpstreamConn): void {
    this.conn = conn
    conn.begin(false, false)
    conn.out.send('GET / HTTP/1.1\r\nHost: t\r\n\r\n', null, '')
    // A response that is never read ends as a server timeout, the test's failure.
    conn.sent(2_000)
  }
  onConnectFailure(kind: string): void {
    this.finish(`connect failure ${kind}`)
  }
  onResponseHead(head: ResponseHead): void {
    this.status = head.status
  }
  onResponseData(buf: Buffer, start: number, end: number): void {
    this.body += buf.toString('latin1', start, end)
    this.conn?.pause()
  }
  onResponseEnd(): void {
    const conn = this.conn as UpstreamConn
    this.conn = null
    conn.release(true)
    this.finish(`${this.status} ${this.body}`)
  }
  onUpstreamFailure(kind: string): void {
    this.finish(`failure ${kind}`)
  }
  onUpstreamDrain(): void {}
  onUpgraded(): void {}
}

test('a connection released while paused reads its next response', async () => {
  const { srv, port, sockets } = await server()
  const deadlines = new Deadlines()
  const pool = new ConnPool(
    {
      address: '127.0.0.1',
      port,
      tls: false,
      servername: '',
      tlsSkipVerify: false,
      connectTimeout: 5_000,
      keepAlive: 60_000,
      max: 1,
      sendProxy: 'none',
      maxHeaderSize: 16_384,
    },
    deadlines,
    60_000,
  )
  try {
    for (let i = 0; i < 3; i++) {
      const user = new Reader()
      const conn = pool.acquire(user, null, false)
      assert.ok(conn !== null)
      if (!conn.connecting) user.onConnection(conn)
      assert.equal(await user.done, '200 hello', `request ${i + 1}`)
      assert.equal(pool.open, 1, 'one connection, reused')
    }
    // Closed by the server while idle: the pool notices (it reads the FIN) and drops the connection.
    const idle = pool.idle[0] as UpstreamConn
    const closed = once(idle.socket, 'close')
    srv.close()
    for (const c of sockets) c.end()
    await closed
    assert.equal(pool.open, 0)
  } finally {
    for (const c of [...pool.conns]) c.destroy()
    srv.close()
  }
})
