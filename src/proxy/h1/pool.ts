/**
 * One pool of keep-alive connections per server (src/proxy/h1/upstream-conn.ts is the connection).
 *
 * A pool opens at most `max` connections (`max_connections`). A request that finds none idle and the pool full
 * waits (its exchange bounds the wait by `timeouts.queue`); a connection that comes free, or a slot that opens,
 * goes to the oldest waiter with the same PROXY header key.
 */
import type { Deadlines } from '../timers.js'
import type { FailureKind } from '../request-path.js'
import type { ProxyAddresses } from '../../net/proxy-protocol.js'
import type { ResponseHead } from '../../net/h1/parse.js'
import { openConn, S_BUSY, T_IDLE, type UpstreamConn } from './upstream-conn.js'

/** What a pooled connection reports to the exchange using it. */
export interface PoolUser {
  /** A connection is ready for this user's request (after waiting, or once it connected). */
  onConnection(conn: UpstreamConn): void
  /** Connecting failed (nothing was sent). */
  onConnectFailure(kind: FailureKind, err: Error | null): void
  /**
   * The response head (1xx other than a 101 to an Upgrade are skipped). `more`: body bytes follow in the same
   * read, so they may be written together with the head.
   */
  onResponseHead(head: ResponseHead, conn: UpstreamConn, more: boolean): void
  /** Response body bytes (de-chunked). */
  onResponseData(buf: Buffer, start: number, end: number): void
  /** The response is complete; `trailers` are the chunked trailer lines ('' when none). */
  onResponseEnd(trailers: string): void
  /** The exchange failed after the connection was made. */
  onUpstreamFailure(kind: FailureKind, err: Error | null): void
  /** The connection's write buffer drained (request body backpressure). */
  onUpstreamDrain(): void
  /** A `101 Switching Protocols` to an Upgrade request; `rest` are bytes after its head. */
  onUpgraded(head: ResponseHead, rest: Buffer | null): void
}

export interface PoolOptions {
  /** Resolved address and port. */
  readonly address: string
  readonly port: number
  readonly tls: boolean
  /** TLS server name ('' = none: the server is addressed by IP). */
  readonly servername: string
  readonly tlsSkipVerify: boolean
  readonly connectTimeout: number
  readonly keepAlive: number
  /** Largest number of open connections. */
  readonly max: number
  readonly sendProxy: 'none' | 'v1' | 'v2'
  /** Response head bytes allowed. */
  readonly maxHeaderSize: number
}

/** A waiting user and the PROXY header its connection needs. */
interface Waiter {
  readonly user: PoolUser
  readonly proxy: ProxyAddresses | null
}

export class ConnPool {
  readonly options: PoolOptions
  readonly deadlines: Deadlines
  readonly bodyTimeout: number
  /** Idle connections, most recently used last. */
  readonly idle: UpstreamConn[]
  /** Connections open or opening (idle, busy, connecting). */
  open: number
  /** Every connection counted in `open`. */
  readonly conns: Set<UpstreamConn>
  readonly waiters: Waiter[]
  /** No new requests; connections close as they come free. */
  closing: boolean

  constructor(options: PoolOptions, deadlines: Deadlines, bodyTimeout: number) {
    this.options = options
    this.deadlines = deadlines
    this.bodyTimeout = bodyTimeout
    this.idle = []
    this.open = 0
    this.conns = new Set()
    this.waiters = []
    this.closing = false
  }

  /**
   * A connection for `user`'s request: an idle one (ready now), a new one (connecting: `onConnection` follows),
   * or null when the pool is full (the user waits; `onConnection` when one comes free, or `cancel`).
   * `fresh`: never an idle one, and it will not return to the pool (Upgrade requests).
   */
  acquire(user: PoolUser, proxy: ProxyAddresses | null, fresh: boolean): UpstreamConn | null {
    const key = proxy === null ? '' : proxyKey(proxy)
    if (!fresh) {
      const idle = this.idle
      for (let i = idle.length - 1; i >= 0; i--) {
        const conn = idle[i] as UpstreamConn
        if (conn.proxyKey !== key) continue
        idle.splice(i, 1)
        conn.state = S_BUSY
        conn.user = user
        return conn
      }
    }
    // A full pool with idle connections of other PROXY keys: close the oldest to make room.
    if (this.open >= this.options.max && this.idle.length > 0) (this.idle[0] as UpstreamConn).destroy()
    if (this.open >= this.options.max) {
      this.waiters.push({ user, proxy })
      return null
    }
    const conn = openConn(this, key, proxy, fresh)
    conn.user = user
    if (fresh) conn.reusable = false
    return conn
  }

  /** `user` stopped waiting (queue timeout, client gone). */
  cancel(user: PoolUser): void {
    const w = this.waiters
    for (let i = 0; i < w.length; i++) {
      if ((w[i] as Waiter).user === user) {
        w.splice(i, 1)
        return
      }
    }
  }

  /** A connection came free: the oldest waiter with its PROXY key gets it, else it waits idle. */
  idleConn(conn: UpstreamConn): void {
    if (this.closing) {
      conn.destroy()
      return
    }
    const w = this.waiters
    for (let i = 0; i < w.length; i++) {
      const waiter = w[i] as Waiter
      if ((waiter.proxy === null ? '' : proxyKey(waiter.proxy)) !== conn.proxyKey) continue
      w.splice(i, 1)
      conn.state = S_BUSY
      conn.user = waiter.user
      waiter.user.onConnection(conn)
      return
    }
    this.idle.push(conn)
    this.deadlines.arm(conn.deadline, this.options.keepAlive, T_IDLE)
  }

  /** A connection closed: its slot goes to the oldest waiter (a new connection), if any. */
  connClosed(conn: UpstreamConn): void {
    this.open--
    this.conns.delete(conn)
    const i = this.idle.indexOf(conn)
    if (i >= 0) this.idle.splice(i, 1)
    this.#wake()
  }

  /** A connection became a tunnel: it no longer counts against the pool. */
  connDetached(conn: UpstreamConn): void {
    this.connClosed(conn)
  }

  #wake(): void {
    if (this.closing || this.waiters.length === 0 || this.open >= this.options.max) return
    const waiter = this.waiters.shift() as Waiter
    const conn = openConn(this, waiter.proxy === null ? '' : proxyKey(waiter.proxy), waiter.proxy, false)
    conn.user = waiter.user
  }

  /** Stop taking requests; close idle connections now and busy ones when their exchange ends. */
  close(): void {
    this.closing = true
    const idle = this.idle.splice(0)
    for (let i = 0; i < idle.length; i++) (idle[i] as UpstreamConn).destroy()
  }

  /** Close every connection now (the exchanges on them fail as if the server had closed them). */
  destroyAll(): void {
    this.close()
    const waiters = this.waiters.splice(0)
    for (const conn of [...this.conns]) conn.onLost()
    for (let i = 0; i < waiters.length; i++)
      (waiters[i] as Waiter).user.onConnectFailure('connect_error', new Error('server connections closed'))
  }
}

function proxyKey(p: ProxyAddresses): string {
  return `${p.srcAddress} ${p.srcPort} ${p.dstAddress} ${p.dstPort}`
}
