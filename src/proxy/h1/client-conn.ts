/**
 * lb's HTTP/1.1 server side: one ClientConn per accepted connection reads requests straight from the socket and
 * hands each to its Exchange (exchange.ts), one at a time.
 *
 * - Requests are parsed strictly (src/net/h1/parse.ts) and answered with 400/414/417/431/501 and a close when
 *   they cannot be framed without doubt; nothing of such a request reaches a server.
 * - Pipelining: bytes after a request wait (read, bounded, then the socket pauses) until that request's response
 *   has been written in full; only then is the next request parsed. So a connection has at most one request
 *   upstream, responses leave in request order, and a client that does not read its responses stops being read.
 * - Bodies (Content-Length or chunked, decoded here and re-framed by the exchange) stream to the exchange with
 *   backpressure: the exchange holds the socket (`hold`) while the upstream cannot take more.
 * - Timeouts (one Deadline, timers.ts): `http_request` for a complete head, from accept (so a connection that never
 *   sends a byte lasts no longer) or from the first byte after keep-alive; `keep_alive` between requests;
 *   `client` while a body is read or while the client does not read a response.
 * - After a 101 the socket leaves for a Tunnel; the connection's listeners are removed.
 * - On a listener with `h2c`, a connection whose first bytes are the HTTP/2 preface leaves for node:http2
 *   (h2/session.ts) before any request is parsed.
 *
 * Hot path: socket listeners are module-level functions reaching the ClientConn through a symbol; the RequestHead
 * and the Exchange are one object each per connection, reset per request.
 * The class and its socket handlers stay in one file (over 500 lines): the handlers drive its state directly.
 */
import type { Socket } from 'node:net'
import { Deadline, type DeadlineOwner } from '../timers.js'
import { hasBareLf, headEnd, parseRequestHead, RequestHead, skipEmptyLines } from '../../net/h1/parse.js'
import { ChunkedDecoder, type ChunkSink } from '../../net/h1/chunked.js'
import { parseProxyHeader, type ProxyHeader } from '../../net/proxy-protocol.js'
import { Exchange } from '../exchange.js'
import type { ListenerInfo, ProxyContext } from '../context.js'
import { startTunnel, type Tunnel, type TunnelOrigin } from '../tunnel.js'
import type { ClientSide } from '../client-side.js'
import { filterTrailers } from '../headers.js'
import { Out } from './out.js'
import { statusText } from './status.js'
import { nodeInternals, readIntoBuffers } from '../../net/node-internals.js'
import type { Http2Front } from '../h2/session.js'

/**
 * Reads land in one reusable buffer per connection (Node's onread slots, src/net/node-internals.ts), 16 KiB and
 * 64 KiB after a read that filled it, instead of a fresh 64 KiB allocation and a 'data' event per read. Bytes
 * that must outlive the read (a partial head, a pipelined request, body bytes waiting for the server or in a
 * write the kernel did not take at once) are copied, or the connection moves on to a fresh buffer (`lent`).
 * Without the onread slots (LB_NODE_INTERNALS=off, another Node) reads are 'data' events.
 */
export const fastReads = nodeInternals.onreadSlots !== null
export const READ_SMALL = 16 * 1024
export const READ_BIG = 64 * 1024

const kClient = Symbol('lb.clientConn')
interface ClientSocket extends Socket {
  [kClient]: ClientConn
}

// Connection states.
/** Waiting for a PROXY header (`accept_proxy`). */
const S_PROXY = 0
/** Between requests, or reading a request head. */
const S_HEAD = 1
/** Reading a request body. */
const S_BODY = 2
/** Request read; its response is not complete yet. */
const S_WAIT = 3
/** Handed to a tunnel. */
const S_TUNNEL = 4
const S_CLOSED = 5
/** Handed to node:http2 (h2c with prior knowledge). */
const S_H2 = 6

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

// Deadline kinds.
const K_REQUEST = 1
const K_IDLE = 2
const K_CLIENT = 3

/** Bytes of pipelined requests buffered while one is in progress, before the socket stops being read. */
const PIPELINE_BUFFER = 64 * 1024
/** A request body still to come after a local answer is read and dropped up to this size; a bigger one closes. */
const DISCARD_LIMIT = 1024 * 1024

const CRLF = '\r\n'
const LAST_CHUNK = '0\r\n'

export class ClientConn implements DeadlineOwner, ChunkSink, ClientSide {
  readonly ctx: ProxyContext
  readonly listener: ListenerInfo
  readonly socket: Socket
  /** The client's address and port (the PROXY header's, with `accept_proxy`). */
  remote: string
  remotePort: number
  /** The address and port the client connected to (the PROXY header's destination, with `accept_proxy`). */
  localAddress: string
  localPort: number
  state: number
  /** Bytes read and not consumed yet. */
  buf: Buffer | null
  readonly head: RequestHead
  readonly ex: Exchange
  /** Body bytes still to read (Content-Length bodies). */
  bodyLeft: number
  readonly decoder: ChunkedDecoder
  /** The current request's body is chunked. */
  chunked: boolean
  /** The exchange is finished but the body is still arriving: read and drop it, then go on. */
  discarding: boolean
  /** Close once the current response is written. */
  closeAfter: boolean
  /** The exchange asked to stop reading (the upstream cannot take more body yet). */
  held: boolean
  /** The last response write did not fit: wait for 'drain' before the next request. */
  writeBlocked: boolean
  /** Inside `process()` (re-entry from a synchronous answer just sets state for the running loop). */
  looping: boolean
  /** Bytes of the current request read from the socket (head and body), for the access log. */
  requestBytes: number
  /** The client sent FIN. */
  ended: boolean
  /** A TCP socket: reads and writes may use its handle (not a TLSSocket). */
  readonly plain: boolean
  /** Reads land in `readBuf` (fast reads); else 'data' events. */
  onread: boolean
  readBuf: Buffer
  /** `readBuf` is referenced beyond the current read: the next read goes to a fresh buffer. */
  lent: boolean
  /** Returns `readBuf` (Node asks for the next read's buffer). */
  readonly nextBuffer: () => Buffer
  /** After a 101: the tunnel this connection's bytes go to. */
  tunnel: Tunnel | null
  /** Writes to the client. */
  readonly out: Out
  /** `h2c`: where a connection starting with the HTTP/2 preface goes (null: HTTP/1.1 only). */
  readonly h2: Http2Front | null
  /** The first bytes are still to be checked for the HTTP/2 preface. */
  preface: boolean
  /** The PROXY header read for this connection (handed on with it to HTTP/2). */
  proxy: ProxyHeader | null
  /** The response body is re-chunked for the client. */
  chunkOut: boolean
  /** A response head not written yet: it goes out with the body bytes of the same read (one system call). */
  headOut: string
  readonly deadline: Deadline

  /**
   * `plain`: `socket` is a TCP socket, whose reads and writes may go through its libuv handle; a TLSSocket
   * (an HTTPS listener) reads 'data' events and writes with `socket.write`.
   */
  constructor(
    ctx: ProxyContext,
    listener: ListenerInfo,
    socket: Socket,
    acceptProxy: boolean,
    plain = true,
    h2: Http2Front | null = null,
  ) {
    this.ctx = ctx
    this.listener = listener
    this.socket = socket
    this.remote = socket.remoteAddress ?? ''
    this.remotePort = socket.remotePort ?? 0
    this.localAddress = socket.localAddress ?? ''
    this.localPort = socket.localPort ?? 0
    this.state = acceptProxy ? S_PROXY : S_HEAD
    this.buf = null
    this.head = new RequestHead()
    this.ex = new Exchange(ctx, listener, this)
    this.bodyLeft = 0
    this.decoder = new ChunkedDecoder(this)
    this.chunked = false
    this.discarding = false
    this.closeAfter = false
    this.held = false
    this.writeBlocked = false
    this.looping = false
    this.requestBytes = 0
    this.ended = false
    this.plain = plain
    this.onread = false
    this.readBuf = EMPTY
    this.lent = false
    this.nextBuffer = (): Buffer => this.readBuf
    this.tunnel = null
    this.out = new Out(socket, () => this.onDrain(), plain)
    this.h2 = h2
    this.preface = h2 !== null
    this.proxy = null
    this.chunkOut = false
    this.headOut = ''
    this.deadline = new Deadline(this)
  }

  /** Wire the socket and start the `http_request` clock. */
  start(): void {
    const s = this.socket as ClientSocket
    s[kClient] = this
    if (fastReads && this.plain) {
      this.readBuf = Buffer.allocUnsafe(READ_SMALL)
      this.onread = readIntoBuffers(s, this.nextBuffer, onRead)
      if (!this.onread) this.readBuf = EMPTY
    }
    if (!this.onread) s.on('data', onData)
    // The listener accepts paused (so the onread slots are set before the first read).
    s.resume()
    s.on('drain', onDrain)
    s.on('end', onEnd)
    s.on('error', onError)
    s.on('close', onClose)
    this.ctx.deadlines.arm(this.deadline, this.ctx.timeouts.httpRequest, K_REQUEST)
  }

  /** A read into `readBuf` (fast reads): process it, then keep what must outlive it. */
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
    if (this.state === S_TUNNEL) {
      this.tunnel?.fromClient(chunk)
      return
    }
    if (this.state === S_HEAD && this.deadline.kind === K_IDLE) {
      // The first byte of the next request: from now on it has `http_request` to complete its head.
      this.ctx.deadlines.arm(this.deadline, this.ctx.timeouts.httpRequest, K_REQUEST)
    }
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk])
    this.process()
  }

  /** Consume buffered bytes as far as the current state allows. */
  process(): void {
    if (this.looping) return
    this.looping = true
    try {
      for (;;) {
        const buf = this.buf
        if (buf === null || this.held) return
        const state = this.state
        if (state === S_HEAD) {
          if (this.writeBlocked) return
          if (!this.readHead(buf)) return
        } else if (state === S_BODY) {
          this.readBody(buf)
        } else if (state === S_WAIT) {
          // A pipelined request waits for the response in progress; stop reading beyond a bound.
          if (buf.length > PIPELINE_BUFFER) this.socket.pause()
          return
        } else if (state === S_PROXY) {
          if (!this.readProxyHeader(buf)) return
        } else {
          return
        }
      }
    } finally {
      this.looping = false
    }
  }

  /** Parse one request head from `buf` and start its exchange. false = wait for more bytes (or closed). */
  readHead(buf: Buffer): boolean {
    if (this.preface) {
      const n = Math.min(buf.length, PREFACE.length)
      if (buf.compare(PREFACE, 0, n, 0, n) === 0) {
        if (n < PREFACE.length) {
          this.buf = buf
          return false
        }
        this.toH2(buf)
        return false
      }
      this.preface = false
    }
    const max = this.ctx.maxHeaderSize
    const start = skipEmptyLines(buf, 0, buf.length)
    if (start === buf.length) {
      this.buf = null
      return false
    }
    const end = headEnd(buf, start)
    if (end < 0) {
      if (buf.length - start > max)
        this.refuse(requestLineTooLong(buf, start, max) ? 414 : 431, 'head too large')
      else if (hasBareLf(buf, start, buf.length)) this.refuse(400, 'bare LF')
      else this.buf = start === 0 ? buf : buf.subarray(start)
      return false
    }
    if (end - start > max) {
      this.refuse(requestLineTooLong(buf, start, max) ? 414 : 431, 'head too large')
      return false
    }
    const head = this.head
    const status = parseRequestHead(buf, start, end, head)
    this.buf = end < buf.length ? buf.subarray(end) : null
    if (status !== 0) {
      this.refuse(status, head.error)
      return false
    }
    this.requestBytes = end - start
    this.discarding = false
    if (head.chunked) {
      this.chunked = true
      this.decoder.reset()
      this.state = S_BODY
    } else if (head.contentLength > 0) {
      this.chunked = false
      this.bodyLeft = head.contentLength
      this.state = S_BODY
    } else {
      this.chunked = false
      this.state = S_WAIT
    }
    if (this.state === S_BODY) this.ctx.deadlines.arm(this.deadline, this.ctx.timeouts.client, K_CLIENT)
    else this.ctx.deadlines.disarm(this.deadline)
    this.ex.begin(head)
    return this.state !== S_CLOSED && this.state !== S_TUNNEL
  }

  readBody(buf: Buffer): void {
    const n = buf.length
    this.ctx.deadlines.arm(this.deadline, this.ctx.timeouts.client, K_CLIENT)
    if (!this.chunked) {
      const take = Math.min(this.bodyLeft, n)
      this.bodyLeft -= take
      this.requestBytes += take
      this.buf = take < n ? buf.subarray(take) : null
      if (!this.discarding) this.ex.requestBody(buf, 0, take)
      if (this.bodyLeft === 0) this.bodyDone('')
      return
    }
    this.buf = null
    const used = this.decoder.feed(buf, 0, n)
    if (used < 0) {
      this.requestBytes += n
      this.refuse(400, this.decoder.error)
      return
    }
    this.requestBytes += used
    // What follows the body is the next request's (chunkedEnd may already have moved on to it).
    if (used < n && this.state !== S_CLOSED) this.buf = buf.subarray(used)
  }

  chunkData(buf: Buffer, start: number, end: number): void {
    if (!this.discarding && end > start) this.ex.requestBody(buf, start, end)
  }

  chunkedEnd(trailers: string): void {
    this.bodyDone(trailers)
  }

  bodyDone(trailers: string): void {
    // The body is read: whatever held the socket for it no longer applies (a pipelined request waits anyway).
    this.unhold()
    if (this.discarding) {
      this.discarding = false
      this.state = S_WAIT
      this.next()
      return
    }
    this.state = S_WAIT
    this.ctx.deadlines.disarm(this.deadline)
    this.ex.requestBodyEnd(trailers)
  }

  // -- ClientSide: the exchange's response, written as HTTP/1.1 --------------------------------------------

  get dataLent(): boolean {
    return this.out.lent
  }

  sendContinue(): void {
    this.out.send('HTTP/1.1 100 Continue\r\n\r\n', null, '')
  }

  /**
   * Status line, headers, then lb's framing: a body of unknown length is chunked for HTTP/1.1 clients and ends
   * with the connection for HTTP/1.0 ones; `Connection`/`Keep-Alive` and the request id last.
   */
  sendHead(
    status: number,
    reason: string,
    headers: readonly string[],
    hsts: string,
    te: string,
    toClose: boolean,
    more: boolean,
  ): boolean {
    const head = this.head
    let framing = ''
    this.chunkOut = false
    if (te !== '') {
      if (head.minor === 1) {
        this.chunkOut = true
        framing = 'Transfer-Encoding: ' + te + CRLF
      } else {
        this.closeAfter = true
      }
    } else if (toClose) {
      // The body ends when the server closes: so does this connection's, for the client.
      this.closeAfter = true
    }
    let h = 'HTTP/1.1 ' + status + ' ' + reason + CRLF
    if (hsts === '') {
      for (let i = 0; i + 1 < headers.length; i += 2) h += headers[i] + ': ' + headers[i + 1] + CRLF
    } else {
      // The route's HSTS replaces the server's own.
      for (let i = 0; i + 1 < headers.length; i += 2) {
        const name = headers[i] as string
        if (name.length === 25 && name.toLowerCase() === 'strict-transport-security') continue
        h += name + ': ' + headers[i + 1] + CRLF
      }
      h += 'Strict-Transport-Security: ' + hsts + CRLF
    }
    h += framing
    const ctx = this.ctx
    if (this.closeAfter || head.close || this.ended) h += 'Connection: close\r\n'
    else h += head.minor === 0 ? 'Connection: keep-alive\r\n' + ctx.keepAliveHint : ctx.keepAliveHint
    const rid = this.ex.requestId
    if (rid !== '') h += ctx.requestIdHeader + ': ' + rid + CRLF
    if (more) {
      // Body bytes follow in this read: the head goes out with them, in one write.
      this.headOut = h + CRLF
      return true
    }
    this.headOut = ''
    return this.out.send(h + CRLF, null, '')
  }

  sendData(data: Buffer): boolean {
    const head = this.headOut
    this.headOut = ''
    return this.chunkOut
      ? this.out.send(head + data.length.toString(16) + CRLF, data, CRLF)
      : this.out.send(head, data, '')
  }

  sendEnd(trailers: string): boolean {
    let text = this.headOut
    this.headOut = ''
    if (this.chunkOut) text += trailers === '' ? '0\r\n\r\n' : LAST_CHUNK + filterTrailers(trailers) + CRLF
    return text === '' || this.out.send(text, null, '')
  }

  sendLocal(
    status: number,
    body: string,
    contentType: string,
    location: string | null,
    challenge: string,
  ): boolean {
    const head = this.head
    const ctx = this.ctx
    this.headOut = ''
    let h =
      'HTTP/1.1 ' +
      status +
      ' ' +
      statusText(status) +
      '\r\ncontent-type: ' +
      contentType +
      '\r\ncontent-length: ' +
      Buffer.byteLength(body) +
      '\r\nx-content-type-options: nosniff\r\n'
    if (location !== null) h += 'location: ' + location + CRLF
    if (challenge !== '') h += 'www-authenticate: ' + challenge + CRLF
    // After a request lb could not make sense of, bytes that follow on the connection are not trusted either.
    if (status === 400) this.closeAfter = true
    if (this.closeAfter || head.close || this.ended) h += 'connection: close\r\n'
    else h += head.minor === 0 ? 'connection: keep-alive\r\n' + ctx.keepAliveHint : ctx.keepAliveHint
    const rid = this.ex.requestId
    if (rid !== '') h += ctx.requestIdHeader + ': ' + rid + CRLF
    return this.out.send(h + CRLF + body, null, '')
  }

  switchProtocols(
    origin: TunnelOrigin,
    reason: string,
    headers: readonly string[],
    upgrade: string,
    server: Socket,
    rest: Buffer | null,
  ): void {
    let h = 'HTTP/1.1 101 ' + (reason === '' ? 'Switching Protocols' : reason) + CRLF
    for (let i = 0; i + 1 < headers.length; i += 2) h += headers[i] + ': ' + headers[i + 1] + CRLF
    h += 'Connection: Upgrade\r\nUpgrade: ' + upgrade + CRLF
    const rid = this.ex.requestId
    if (rid !== '') h += this.ctx.requestIdHeader + ': ' + rid + CRLF
    this.out.send(h + CRLF, null, '')
    startTunnel(origin, this, server, rest)
  }

  /** The exchange wants no more body bytes for now. */
  hold(): void {
    if (this.held) return
    this.held = true
    this.socket.pause()
  }

  unhold(): void {
    if (!this.held) return
    this.held = false
    if (this.state !== S_CLOSED) {
      this.socket.resume()
      this.process()
    }
  }

  /**
   * The exchange is finished (its response written, or the client's request answered locally). Go on with the
   * next request, or close.
   */
  requestDone(): void {
    if (this.state === S_CLOSED || this.state === S_TUNNEL) return
    if (this.state === S_BODY) {
      // Answered before the body was read (a local answer, an early response): drop the rest of a small body and
      // go on; a big one closes the connection.
      const left = this.chunked ? 0 : this.bodyLeft
      if (this.closeAfter || this.head.close || left > DISCARD_LIMIT) {
        this.close()
        return
      }
      this.discarding = true
      this.unhold()
      return
    }
    this.next()
  }

  next(): void {
    if (this.closeAfter || this.head.close || this.ended) {
      this.close()
      return
    }
    this.state = S_HEAD
    this.head.reset()
    if (this.out.blocked) {
      this.writeBlocked = true
      this.ctx.deadlines.arm(this.deadline, this.ctx.timeouts.client, K_CLIENT)
      return
    }
    this.ctx.deadlines.arm(
      this.deadline,
      this.buf === null ? this.ctx.timeouts.keepAlive : this.ctx.timeouts.httpRequest,
      this.buf === null ? K_IDLE : K_REQUEST,
    )
    if (this.socket.isPaused() && !this.held) this.socket.resume()
    this.process()
  }

  /** The response cannot be written as fast as it comes: the client must read within `timeouts.client`. */
  awaitDrain(): void {
    this.ctx.deadlines.arm(this.deadline, this.ctx.timeouts.client, K_CLIENT)
  }

  onDrain(): void {
    if (this.state === S_TUNNEL) {
      this.tunnel?.clientDrained()
      return
    }
    if (this.writeBlocked) {
      this.writeBlocked = false
      this.next()
      return
    }
    if (this.ex.active) {
      if (this.state !== S_BODY) this.ctx.deadlines.disarm(this.deadline)
      this.ex.onClientDrain()
    }
  }

  onEnd(): void {
    this.ended = true
    if (this.state === S_TUNNEL) {
      this.tunnel?.clientEnded()
      return
    }
    // A FIN between requests, or before a request head completed: nothing more will come.
    if ((this.state === S_HEAD || this.state === S_PROXY) && !this.ex.active) {
      this.close()
      return
    }
    // A FIN while a request is in progress: the client is gone (as nginx and Node's HTTP server see it); the
    // exchange and everything it holds upstream are cancelled.
    if (this.ex.active) {
      this.shut()
      this.ex.clientGone()
      this.destroy()
    } else if (this.state === S_BODY) {
      this.destroy()
    }
  }

  /**
   * The connection takes no more requests: closed state first, so an exchange cancelled right after does not go
   * on to a pipelined request when it finishes.
   */
  shut(): void {
    this.state = S_CLOSED
    this.buf = null
    this.ctx.deadlines.remove(this.deadline)
  }

  onDeadline(kind: number): void {
    if (this.state === S_CLOSED) return
    if (kind === K_REQUEST) {
      // A partial head gets 408; a connection that sent nothing is just closed.
      if (this.buf !== null && this.buf.length > 0) this.refuse(408, 'request head timeout')
      else this.destroy()
      return
    }
    if (kind === K_IDLE) {
      this.destroy()
      return
    }
    // K_CLIENT: the client stopped sending its body or reading its response.
    this.shut()
    if (this.ex.active) this.ex.clientTimeout()
    this.destroy()
  }

  /** Refuse what the client sent: a bodiless error answer, then close. */
  refuse(status: number, _why: string): void {
    this.shut()
    if (this.ex.active) this.ex.clientGone()
    const s = this.socket
    if (s.writable) {
      s.end(
        `HTTP/1.1 ${status} ${statusText(status)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
        'latin1',
      )
    }
    this.state = S_CLOSED
    this.buf = null
    this.ctx.deadlines.remove(this.deadline)
    // Whatever the client still sends is not read; the socket is destroyed once the answer is flushed or soon.
    this.socket.pause()
    setImmediate(destroyLater, s)
  }

  /** Close after what was written is flushed. */
  close(): void {
    if (this.state === S_CLOSED) return
    this.state = S_CLOSED
    this.buf = null
    this.ctx.deadlines.remove(this.deadline)
    this.socket.pause()
    this.socket.destroySoon()
  }

  destroy(): void {
    if (this.state === S_CLOSED && this.socket.destroyed) return
    this.state = S_CLOSED
    this.buf = null
    this.ctx.deadlines.remove(this.deadline)
    this.socket.destroy()
  }

  onClose(): void {
    if (this.state === S_TUNNEL) {
      this.tunnel?.clientClosed()
      return
    }
    this.shut()
    if (this.ex.active) this.ex.clientGone()
  }

  /**
   * The connection becomes a tunnel: from now on its reads, drains, FIN and close go to `tunnel`. Returns the
   * client's bytes received after the Upgrade request (held until the 101).
   */
  toTunnel(tunnel: Tunnel): Buffer | null {
    this.state = S_TUNNEL
    this.tunnel = tunnel
    this.ctx.deadlines.remove(this.deadline)
    const rest = this.buf
    this.buf = null
    this.held = false
    return rest
  }

  /** h2c with prior knowledge: the socket, and the bytes read so far, go to node:http2. */
  toH2(buf: Buffer): void {
    this.state = S_H2
    this.buf = null
    this.preface = false
    this.ctx.deadlines.remove(this.deadline)
    const s = this.socket
    s.removeListener('data', onData)
    s.removeListener('drain', onDrain)
    s.removeListener('end', onEnd)
    s.removeListener('error', onError)
    s.removeListener('close', onClose)
    s.pause()
    s.unshift(this.onread ? Buffer.from(buf) : buf)
    ;(this.h2 as Http2Front).accept(s, this.proxy)
  }

  /** `accept_proxy`: the PROXY header first; its addresses are the client's from then on. */
  readProxyHeader(buf: Buffer): boolean {
    const r = parseProxyHeader(buf)
    if (r.status === 'incomplete') {
      if (buf.length > 16 + 65_535) this.destroy()
      return false
    }
    if (r.status === 'invalid') {
      this.destroy()
      return false
    }
    this.useProxyHeader(r.header)
    this.buf = r.length < buf.length ? buf.subarray(r.length) : null
    this.state = S_HEAD
    return true
  }

  /** The PROXY header an HTTPS listener read before the handshake (tls-accept.ts). */
  useProxyHeader(h: ProxyHeader): void {
    this.proxy = h
    if (h.command === 'proxy' && h.family !== 'unknown') {
      this.remote = h.srcAddress
      this.remotePort = h.srcPort
      this.localAddress = h.dstAddress
      this.localPort = h.dstPort
    }
  }

  /** Idle between requests (for a graceful shutdown: such connections close at once). */
  get idle(): boolean {
    return (this.state === S_HEAD || this.state === S_PROXY) && !this.ex.active && this.buf === null
  }
}

/**
 * A request line is over-long when the bytes held have no line end within the limit, or only one after more than
 * half of it: a request line alone that long leaves no room for the headers.
 */
function requestLineTooLong(buf: Buffer, start: number, limit: number): boolean {
  const lf = buf.indexOf(10, start)
  return lf < 0 || lf - start > limit / 2
}

function destroyLater(s: Socket): void {
  if (s.writableLength === 0) s.destroy()
  else s.once('finish', destroySelf).setTimeout(1_000, destroySelf)
}

function destroySelf(this: Socket): void {
  this.destroy()
}

function onData(this: ClientSocket, chunk: Buffer): void {
  this[kClient].onData(chunk)
}

function onRead(this: ClientSocket, n: number, buf: Buffer): boolean {
  this[kClient].onRead(n, buf)
  return true
}

const EMPTY = Buffer.alloc(0)

function onDrain(this: ClientSocket): void {
  this[kClient].onDrain()
}

function onEnd(this: ClientSocket): void {
  this[kClient].onEnd()
}

function onError(): void {
  // 'close' follows; the exchange learns of it there.
}

function onClose(this: ClientSocket): void {
  this[kClient].onClose()
}
