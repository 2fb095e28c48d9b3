/**
 * HTTP/2 client connections of one listener: a node:http2 server that never listens (`Http2Front`) takes the
 * sockets the listener hands it (an ALPN `h2` TLSSocket from tls-accept.ts, or a plain socket that began with
 * the HTTP/2 preface, h1/client-conn.ts), and each session's streams become exchanges (stream.ts).
 *
 * Limits (`http.http2`, `http.max_header_size`, `http.timeouts`):
 * - SETTINGS_MAX_CONCURRENT_STREAMS `max_concurrent_streams` (nghttp2 refuses streams beyond it);
 *   SETTINGS_MAX_HEADER_LIST_SIZE `max_header_size`; SETTINGS_ENABLE_CONNECT_PROTOCOL is never sent;
 * - the first stream must come within `http_request` of the session's start, the next within `keep_alive` of
 *   the last one closing (no stream open); then the session gets GOAWAY and closes;
 * - rapid reset (CVE-2023-44487): a client that resets more than `max_resets` streams within `reset_interval`
 *   gets GOAWAY ENHANCE_YOUR_CALM and the connection closes, cancelling everything it had upstream.
 *
 * Drain (`close`): GOAWAY NO_ERROR, streams in flight finish, then the connection closes.
 */
import {
  constants,
  createServer,
  type Http2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2'
import type { Socket } from 'node:net'
import type { ProxyHeader } from '../../net/proxy-protocol.js'
import type { ListenerInfo, ProxyContext } from '../context.js'
import { Deadline, type DeadlineOwner } from '../timers.js'
import { H2Stream } from './stream.js'

const { NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_CANCEL } = constants

/** Streams kept for reuse per session (beyond it, finished ones are left to the GC). */
const FREE_STREAMS = 16

// Session deadline kinds.
const K_REQUEST = 1
const K_IDLE = 2
/** Closing for too many resets: destroyed if not closed by then. */
const K_CALM = 3

const kSession = Symbol('lb.h2session')
interface LbSession extends ServerHttp2Session {
  [kSession]: H2Session
}

export class Http2Front {
  readonly ctx: ProxyContext
  readonly listener: ListenerInfo
  readonly server: Http2Server
  readonly sessions: Set<H2Session>
  /** The connection being handed to node:http2 (its 'session' event comes synchronously). */
  pending: { socket: Socket; proxy: ProxyHeader | null } | null

  constructor(ctx: ProxyContext, listener: ListenerInfo) {
    this.ctx = ctx
    this.listener = listener
    this.sessions = new Set()
    this.pending = null
    const limits = ctx.http2
    this.server = createServer({
      settings: {
        maxConcurrentStreams: limits.maxConcurrentStreams,
        maxHeaderListSize: ctx.maxHeaderSize,
        enableConnectProtocol: false,
        enablePush: false,
      },
      maxHeaderListPairs: 1_000,
    })
    this.server.on('session', this.#onSession)
  }

  /** A connection that speaks HTTP/2 (its handshake, or its preface, done). */
  accept(socket: Socket, proxy: ProxyHeader | null): void {
    this.pending = { socket, proxy }
    // A server TLSSocket lb wrapped itself still says `secureConnecting` after its handshake (a tls.Server clears
    // it before 'secureConnection'), and node:http2 would wait for a 'secureConnect' that never comes.
    const tls = socket as { secureConnecting?: boolean }
    if (tls.secureConnecting === true) tls.secureConnecting = false
    try {
      this.server.emit('connection', socket)
    } finally {
      this.pending = null
    }
  }

  readonly #onSession = (session: ServerHttp2Session): void => {
    const p = this.pending
    if (p === null) {
      session.destroy()
      return
    }
    const h = new H2Session(this, session as LbSession, p.socket, p.proxy)
    this.sessions.add(h)
    h.start()
  }

  /** Drain: every session gets GOAWAY; streams in flight finish. */
  drain(): void {
    for (const s of this.sessions) s.drain()
  }

  destroyAll(): void {
    for (const s of [...this.sessions]) s.session.destroy()
  }
}

export class H2Session implements DeadlineOwner {
  readonly front: Http2Front
  readonly ctx: ProxyContext
  readonly listener: ListenerInfo
  readonly session: LbSession
  readonly socket: Socket
  readonly remote: string
  readonly remotePort: number
  readonly localAddress: string
  readonly localPort: number
  /** Streams of this session whose exchange or node:http2 stream is not done. */
  readonly streams: Set<H2Stream>
  /** Client resets counted since `resetsSince`. */
  resets: number
  resetsSince: number
  /** The connection was closed for too many resets. */
  calmed: boolean
  readonly spare: H2Stream[]
  readonly deadline: Deadline

  constructor(front: Http2Front, session: LbSession, socket: Socket, proxy: ProxyHeader | null) {
    this.front = front
    this.ctx = front.ctx
    this.listener = front.listener
    this.session = session
    this.socket = socket
    const known = proxy !== null && proxy.command === 'proxy' && proxy.family !== 'unknown'
    this.remote = known ? proxy.srcAddress : (socket.remoteAddress ?? '')
    this.remotePort = known ? proxy.srcPort : (socket.remotePort ?? 0)
    this.localAddress = known ? proxy.dstAddress : (socket.localAddress ?? '')
    this.localPort = known ? proxy.dstPort : (socket.localPort ?? 0)
    this.streams = new Set()
    this.resets = 0
    this.resetsSince = 0
    this.calmed = false
    this.spare = []
    this.deadline = new Deadline(this)
  }

  start(): void {
    const s = this.session
    s[kSession] = this
    s.on('stream', onStream)
    s.on('error', onError)
    s.on('close', onClose)
    this.ctx.deadlines.arm(this.deadline, this.ctx.timeouts.httpRequest, K_REQUEST)
  }

  onStream(stream: ServerHttp2Stream, raw: string[]): void {
    if (this.streams.size === 0) this.ctx.deadlines.disarm(this.deadline)
    const h = this.spare.pop() ?? new H2Stream(this)
    this.streams.add(h)
    h.start(stream, raw)
  }

  /** A stream and its exchange are both done: keep the object for the next stream. */
  free(h: H2Stream): void {
    this.streams.delete(h)
    if (this.spare.length < FREE_STREAMS) this.spare.push(h)
    if (this.streams.size === 0 && !this.calmed && !this.session.closed && !this.session.destroyed)
      this.ctx.deadlines.arm(this.deadline, this.ctx.timeouts.keepAlive, K_IDLE)
  }

  /** The client reset a stream: past `max_resets` within `reset_interval`, the connection goes. */
  clientReset(): void {
    if (this.calmed) return
    const limits = this.ctx.http2
    const now = this.ctx.now()
    if (now - this.resetsSince > limits.resetInterval) {
      this.resetsSince = now
      this.resets = 0
    }
    if (++this.resets <= limits.maxResets) return
    this.calmed = true
    this.ctx.log.warn(
      { listener: this.listener.name, client: this.remote, resets: this.resets },
      'HTTP/2 client reset too many streams: GOAWAY ENHANCE_YOUR_CALM',
    )
    const s = this.session
    if (s.closed || s.destroyed) return
    // GOAWAY first and a graceful close, so the frame is flushed (through TLS too) before the socket ends; what
    // the client still has open is cancelled, and a client that holds on is cut at `http_request`.
    s.goaway(NGHTTP2_ENHANCE_YOUR_CALM)
    for (const h of this.streams) h.reset(NGHTTP2_CANCEL)
    s.close()
    this.ctx.deadlines.arm(this.deadline, this.ctx.timeouts.httpRequest, K_CALM)
  }

  onDeadline(kind: number): void {
    if (kind === K_CALM) {
      this.session.destroy()
      return
    }
    // No stream within http_request (a new session) or keep_alive (an idle one): GOAWAY, then close.
    this.drain()
  }

  drain(): void {
    const s = this.session
    if (!s.closed && !s.destroyed) s.close()
  }

  onClose(): void {
    this.ctx.deadlines.remove(this.deadline)
    this.front.sessions.delete(this)
    if (!this.socket.destroyed) this.socket.destroy()
  }
}

function onStream(
  this: LbSession,
  stream: ServerHttp2Stream,
  _headers: unknown,
  _flags: number,
  raw: string[],
): void {
  this[kSession].onStream(stream, raw)
}

function onError(): void {
  // 'close' follows.
}

function onClose(this: LbSession): void {
  this[kSession].onClose()
}
