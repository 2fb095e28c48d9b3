/**
 * lb's HTTP/1.1 client side: the connection that writes a request and parses its response (its pool: pool.ts).
 *
 * - With `send_proxy`, each connection starts with the PROXY header of the client whose request opened it and is
 *   reused only for requests with the same header (haproxy puts the PROXY parameters in its reuse key).
 * - A connection carries one request at a time. After a complete response that allows keep-alive, and once the
 *   request was fully sent, it returns to the pool and is closed after `keepAlive` ms idle. Anything the server
 *   sends on an idle connection, or after a response's declared end, closes it.
 * - Responses are parsed strictly (src/net/h1/parse.ts); an invalid head is a 'protocol' failure, a close before
 *   any byte a 'reset' — with `reused` saying whether the connection had carried a request before (a keep-alive
 *   race).
 * - Timeouts (one Deadline per connection, timers.ts): connect, `server` from the request fully sent to the
 *   response head, `body` while the response body is inactive (not while lb holds it back), `keepAlive` idle.
 *
 * Hot path: socket listeners are module-level functions that reach the connection through a symbol.
 */
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { Deadline, type DeadlineOwner } from '../timers.js'
import { headEnd, hasBareLf, parseResponseHead, ResponseHead } from '../../net/h1/parse.js'
import { ChunkedDecoder, type ChunkSink } from '../../net/h1/chunked.js'
import type { FailureKind } from '../request-path.js'
import { failureKind } from '../request-path.js'
import { encodeProxy, type ProxyAddresses } from '../../net/proxy-protocol.js'
import { Out } from './out.js'
import type { ConnPool, PoolUser } from './pool.js'

const kConn = Symbol('lb.upstreamConn')
interface PooledSocket extends Socket {
  [kConn]: UpstreamConn
}

// Connection states.
const S_CONNECTING = 0
const S_IDLE = 1
export const S_BUSY = 2
/** Handed over to a tunnel after a 101: no longer the pool's. */
const S_DETACHED = 3
const S_CLOSED = 4

// Response states.
const R_HEAD = 0
const R_LENGTH = 1
const R_CHUNKED = 2
const R_CLOSE = 3
const R_DONE = 4

// Deadline kinds.
const T_CONNECT = 1
const T_SERVER = 2
const T_BODY = 3
export const T_IDLE = 4

export class UpstreamConn implements DeadlineOwner, ChunkSink {
  readonly pool: ConnPool
  socket: Socket
  /** PROXY header key ('' without send_proxy). */
  readonly proxyKey: string
  /**
   * Reads land in `readBuf` (the public `onread` option of plain TCP connections; TLS and Upgrade connections use
   * 'data' events). As on the client side, bytes that outlive a read are copied, or `lent` moves the next read to
   * a fresh buffer.
   */
  onread: boolean
  readBuf: Buffer
  lent: boolean
  readonly nextBuffer: () => Buffer
  /** Writes to the server. */
  readonly out: Out
  user: PoolUser | null
  state: number
  /** Requests carried before the current one: > 0 means a close before any answer may be a keep-alive race. */
  served: number
  /** Response parsing state and the bytes not consumed yet. */
  rstate: number
  buf: Buffer | null
  readonly resp: ResponseHead
  bodyLeft: number
  readonly decoder: ChunkedDecoder
  /** The current request is HEAD (no response body whatever the headers say). */
  headRequest: boolean
  /** The current request asked for an Upgrade. */
  upgrade: boolean
  /** The request has been fully written (the `server` timeout runs from then). */
  requestSent: boolean
  /** May be reused after the current response (false once anything makes it doubtful). */
  reusable: boolean
  /** lb holds the response back (the client is not reading): no body timeout meanwhile. */
  paused: boolean
  /** The socket error that preceded 'close', if any. */
  error: Error | null
  readonly deadline: Deadline

  constructor(pool: ConnPool, proxyKey: string, onread: boolean) {
    this.pool = pool
    this.socket = NO_SOCKET
    this.proxyKey = proxyKey
    this.onread = onread
    this.readBuf = onread ? Buffer.allocUnsafe(READ_SMALL) : EMPTY
    this.lent = false
    this.nextBuffer = (): Buffer => this.readBuf
    this.out = new Out(NO_SOCKET, () => this.user?.onUpstreamDrain())
    this.user = null
    this.state = S_CONNECTING
    this.served = 0
    this.rstate = R_HEAD
    this.buf = null
    this.resp = new ResponseHead()
    this.bodyLeft = 0
    this.decoder = new ChunkedDecoder(this)
    this.headRequest = false
    this.upgrade = false
    this.requestSent = false
    this.reusable = true
    this.paused = false
    this.error = null
    this.deadline = new Deadline(this)
  }

  get connecting(): boolean {
    return this.state === S_CONNECTING
  }

  /** Start a request on this (connected, assigned) connection: reset the response state. */
  begin(headRequest: boolean, upgrade: boolean): void {
    this.rstate = R_HEAD
    this.buf = null
    this.bodyLeft = 0
    this.headRequest = headRequest
    this.upgrade = upgrade
    this.requestSent = false
    this.paused = false
    this.decoder.reset()
    this.pool.deadlines.disarm(this.deadline)
  }

  /** The request has been written completely: the server has `timeouts.server` to answer. */
  sent(serverTimeout: number): void {
    this.requestSent = true
    if (this.rstate === R_HEAD) this.pool.deadlines.arm(this.deadline, serverTimeout, T_SERVER)
  }

  /** Hold the response back (client not reading). */
  pause(): void {
    if (this.paused) return
    this.paused = true
    this.socket.pause()
    if (this.rstate !== R_HEAD) this.pool.deadlines.disarm(this.deadline)
  }

  resume(): void {
    if (!this.paused) return
    this.paused = false
    if (this.rstate !== R_HEAD && this.rstate !== R_DONE)
      this.pool.deadlines.arm(this.deadline, this.pool.bodyTimeout, T_BODY)
    this.socket.resume()
  }

  /** The user gives the connection back (response complete) or gives up on it (`reusable` false). */
  release(reusable: boolean): void {
    this.user = null
    if (this.state !== S_BUSY) return
    this.served++
    if (reusable && this.reusable && this.rstate === R_DONE && this.requestSent && this.buf === null) {
      // The response may have ended in a read the user paused after: an idle connection reads again (its next
      // response, or the server's FIN).
      if (this.paused) {
        this.paused = false
        this.socket.resume()
      }
      this.state = S_IDLE
      this.pool.idleConn(this)
    } else {
      this.destroy()
    }
  }

  /** Close now; the user (if any) is not told. */
  destroy(): void {
    if (this.state === S_CLOSED) return
    this.user = null
    this.socket.destroy()
    this.closed()
  }

  /** Socket closed or destroyed: leave the pool. */
  closed(): void {
    if (this.state === S_CLOSED) return
    const wasDetached = this.state === S_DETACHED
    this.state = S_CLOSED
    this.pool.deadlines.remove(this.deadline)
    if (!wasDetached) this.pool.connClosed(this)
  }

  onDeadline(kind: number): void {
    const user = this.user
    switch (kind) {
      case T_CONNECT:
        this.fail('connect_timeout', null)
        return
      case T_SERVER:
        this.fail('server_timeout', null)
        return
      case T_BODY:
        this.fail('body_timeout', null)
        return
      case T_IDLE:
        if (user === null) this.destroy()
        return
    }
  }

  /** End the current exchange with a failure: the user is told once, the connection is closed. */
  fail(kind: FailureKind, err: Error | null): void {
    const user = this.user
    const connecting = this.state === S_CONNECTING
    this.destroy()
    if (user === null) return
    if (connecting) user.onConnectFailure(kind, err)
    else user.onUpstreamFailure(kind, err)
  }

  onConnected(): void {
    if (this.state !== S_CONNECTING) return
    this.pool.deadlines.disarm(this.deadline)
    const user = this.user
    if (user === null) {
      this.state = S_IDLE
      this.pool.idleConn(this)
      return
    }
    this.state = S_BUSY
    user.onConnection(this)
  }

  /** A read into `readBuf`: process it, then keep what must outlive it. */
  onRead(n: number, buf: Buffer): void {
    this.onData(n === buf.length ? buf : buf.subarray(0, n))
    const kept = this.buf
    if (kept !== null && kept.buffer === buf.buffer) this.buf = Buffer.from(kept)
    if (this.lent) {
      this.lent = false
      this.readBuf = Buffer.allocUnsafe(n === buf.length ? READ_BIG : buf.length)
    } else if (n === buf.length && buf.length < READ_BIG) {
      this.readBuf = Buffer.allocUnsafe(READ_BIG)
    }
  }

  onData(chunk: Buffer): void {
    if (this.state !== S_BUSY) {
      // Bytes on an idle connection (no request outstanding): the server is confused; do not reuse it.
      if (this.state === S_IDLE) this.destroy()
      return
    }
    let buf = chunk
    if (this.buf !== null) {
      buf = Buffer.concat([this.buf, chunk])
      this.buf = null
    }
    let pos = 0
    while (pos < buf.length) {
      const rstate = this.rstate
      if (rstate === R_HEAD) {
        const end = headEnd(buf, pos)
        if (end < 0) {
          if (buf.length - pos > this.pool.options.maxHeaderSize) {
            this.fail('protocol', new Error('response header block too large'))
          } else if (hasBareLf(buf, pos, buf.length)) {
            this.fail('protocol', new Error('bare LF in the response head'))
          } else {
            this.buf = pos === 0 ? buf : buf.subarray(pos)
          }
          return
        }
        if (end - pos > this.pool.options.maxHeaderSize) {
          this.fail('protocol', new Error('response header block too large'))
          return
        }
        const resp = this.resp
        if (!parseResponseHead(buf, pos, end, resp)) {
          this.fail('protocol', new Error(resp.error))
          return
        }
        pos = end
        const status = resp.status
        if (status < 200) {
          if (status === 101) {
            if (!this.upgrade) {
              this.fail('protocol', new Error('101 to a request without Upgrade'))
              return
            }
            this.upgraded(buf, pos)
            return
          }
          // 100 Continue, 103 Early Hints …: lb answered 100 itself; informational heads are not relayed.
          continue
        }
        if (!resp.keepAlive) this.reusable = false
        if (this.headRequest || status === 204 || status === 304) {
          this.rstate = R_DONE
        } else if (resp.chunked) {
          this.rstate = R_CHUNKED
        } else if (resp.contentLength >= 0) {
          this.bodyLeft = resp.contentLength
          this.rstate = resp.contentLength === 0 ? R_DONE : R_LENGTH
        } else {
          // No framing: the body ends when the server closes (RFC 9112 §6.3).
          this.rstate = R_CLOSE
          this.reusable = false
        }
        if (this.rstate !== R_DONE) this.pool.deadlines.arm(this.deadline, this.pool.bodyTimeout, T_BODY)
        else this.pool.deadlines.disarm(this.deadline)
        const user = this.user
        if (user === null) return
        user.onResponseHead(resp, this, this.rstate !== R_DONE && pos < buf.length)
        if (this.state !== S_BUSY || this.user !== user) return
        if (this.rstate === R_DONE) {
          this.done(buf, pos)
          return
        }
        continue
      }
      if (rstate === R_LENGTH) {
        const take = Math.min(this.bodyLeft, buf.length - pos)
        this.bodyLeft -= take
        const start = pos
        pos += take
        const user = this.user
        if (user === null) return
        if (this.bodyLeft > 0) this.pool.deadlines.arm(this.deadline, this.pool.bodyTimeout, T_BODY)
        user.onResponseData(buf, start, pos)
        if (this.bodyLeft === 0 && this.state === S_BUSY && this.user === user) this.done(buf, pos)
        return
      }
      if (rstate === R_CHUNKED) {
        const n = this.decoder.feed(buf, pos, buf.length)
        if (n < 0) {
          this.fail('body_reset', new Error(`invalid chunked response body: ${this.decoder.error}`))
          return
        }
        pos += n
        if (this.rstate === R_DONE) {
          // chunkedEnd ran: done() was called from there with what is left.
          if (pos < buf.length) this.reusable = false
          return
        }
        if (this.state === S_BUSY) this.pool.deadlines.arm(this.deadline, this.pool.bodyTimeout, T_BODY)
        return
      }
      if (rstate === R_CLOSE) {
        this.pool.deadlines.arm(this.deadline, this.pool.bodyTimeout, T_BODY)
        this.user?.onResponseData(buf, pos, buf.length)
        return
      }
      // R_DONE: bytes after the response's end.
      this.reusable = false
      return
    }
  }

  /** The response ended at `pos` of `buf`; anything after it means the connection cannot be trusted again. */
  done(buf: Buffer, pos: number): void {
    this.rstate = R_DONE
    this.pool.deadlines.disarm(this.deadline)
    if (pos < buf.length) this.reusable = false
    this.user?.onResponseEnd('')
  }

  chunkData(buf: Buffer, start: number, end: number): void {
    if (end > start) this.user?.onResponseData(buf, start, end)
  }

  chunkedEnd(trailers: string): void {
    this.rstate = R_DONE
    this.pool.deadlines.disarm(this.deadline)
    this.user?.onResponseEnd(trailers)
  }

  /** A 101 to an Upgrade: the socket leaves the pool for good; the user turns it into a tunnel. */
  upgraded(buf: Buffer, pos: number): void {
    const user = this.user
    this.state = S_DETACHED
    this.user = null
    this.pool.deadlines.remove(this.deadline)
    this.pool.connDetached(this)
    this.socket.removeListener('data', onData)
    this.socket.removeListener('end', onEnd)
    this.socket.removeListener('error', onError)
    this.socket.removeListener('close', onClose)
    this.socket.removeListener('drain', onDrain)
    user?.onUpgraded(this.resp, pos < buf.length ? buf.subarray(pos) : null)
  }

  /** The server closed its side. */
  onEnd(): void {
    if (this.state === S_BUSY && this.rstate === R_CLOSE) {
      this.rstate = R_DONE
      this.reusable = false
      this.pool.deadlines.disarm(this.deadline)
      this.user?.onResponseEnd('')
      return
    }
    this.onLost()
  }

  /** The connection is gone: tell the user what that means for its exchange. */
  onLost(): void {
    if (this.state === S_CLOSED || this.state === S_DETACHED) return
    if (this.state === S_CONNECTING) {
      this.fail(failureKind(this.error, true), this.error)
      return
    }
    if (this.state === S_BUSY && this.user !== null && this.rstate !== R_DONE) {
      const kind = this.rstate === R_HEAD ? 'reset' : 'body_reset'
      this.fail(kind, this.error ?? new Error('connection closed by the server'))
      return
    }
    this.destroy()
  }
}

function onConnect(this: PooledSocket): void {
  this[kConn].onConnected()
}

function onData(this: PooledSocket, chunk: Buffer): void {
  this[kConn].onData(chunk)
}

function onRead(this: PooledSocket, n: number, buf: Buffer): boolean {
  this[kConn].onRead(n, buf)
  return true
}

const EMPTY = Buffer.alloc(0)
const READ_SMALL = 16 * 1024
const READ_BIG = 64 * 1024
/** A connection's socket until `#connect` made it. */
const NO_SOCKET = null as unknown as Socket

function onDrain(this: PooledSocket): void {
  this[kConn].user?.onUpstreamDrain()
}

function onEnd(this: PooledSocket): void {
  this[kConn].onEnd()
}

function onError(this: PooledSocket, err: Error): void {
  const conn = this[kConn]
  conn.error ??= err
}

function onClose(this: PooledSocket): void {
  this[kConn].onLost()
}

/** A new connection of `pool` (counted in it), connecting; `key` is its PROXY header key. */
export function openConn(
  pool: ConnPool,
  key: string,
  proxy: ProxyAddresses | null,
  fresh: boolean,
): UpstreamConn {
  const o = pool.options
  const header = proxy === null || o.sendProxy === 'none' ? null : encodeProxy(o.sendProxy, proxy)
  // Plain connections read into a reusable buffer; TLS and Upgrade ones (a tunnel reads 'data') do not.
  const conn = new UpstreamConn(pool, key, !o.tls && !fresh)
  let socket: Socket
  if (conn.onread) {
    socket = netConnect({
      host: o.address,
      port: o.port,
      onread: { buffer: conn.nextBuffer, callback: onRead },
    })
    if (header !== null) socket.write(header)
  } else if (header === null && o.tls) {
    socket = tlsConnect({
      host: o.address,
      port: o.port,
      rejectUnauthorized: !o.tlsSkipVerify,
      ...(o.servername === '' ? {} : { servername: o.servername }),
    })
  } else {
    socket = netConnect({ host: o.address, port: o.port })
    if (header !== null) {
      // The PROXY header goes first, before any TLS handshake (as haproxy sends it).
      socket.write(header)
      if (o.tls) {
        socket = tlsConnect({
          socket,
          rejectUnauthorized: !o.tlsSkipVerify,
          ...(o.servername === '' ? {} : { servername: o.servername }),
        })
      }
    }
  }
  socket.setNoDelay(true)
  conn.socket = socket
  conn.out.socket = socket
  ;(socket as PooledSocket)[kConn] = conn
  socket.once(o.tls ? 'secureConnect' : 'connect', onConnect)
  if (!conn.onread) socket.on('data', onData)
  socket.on('drain', onDrain)
  socket.on('end', onEnd)
  socket.on('error', onError)
  socket.on('close', onClose)
  pool.open++
  pool.conns.add(conn)
  pool.deadlines.arm(conn.deadline, o.connectTimeout, T_CONNECT)
  return conn
}
