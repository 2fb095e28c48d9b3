/**
 * TCP mode (haproxy `mode tcp`): accept → optional PROXY header → optional SNI peek → route by port (and
 * server name) → pick with the service's picker → connect (timeout, retries with redispatch) → optional PROXY
 * header to the server → relay both ways.
 *
 * - Bytes are never altered: the ClientHello is only peeked, so TLS passes through end to end.
 * - Relay (measured faster than `pipe`, see bench/RESULTS.md): each direction reads into one reusable buffer
 *   per session (`onread`) and writes what it read to the other socket; once both sockets are connected, a
 *   `Relay` per direction takes over the handle's reads and writes to the other handle directly. While that
 *   write is not fully handed to the kernel, the pending write still references the buffer, so the reader
 *   stops until the write completes (or the writer's 'drain') and then reads into the same buffer again, or,
 *   when no 'drain' will come (write() returned true), reads on into a fresh buffer (afterRelay). A buffer
 *   starts at 16 KiB (an idle session holds 32 KiB, like haproxy's two 16 KiB buffers) and becomes 64 KiB
 *   after a read that filled it (bulk transfers: fewer reads). The reusable buffer removes the per-read
 *   allocation (and the page faults of fresh 64 KiB chunks) that dominated bulk transfers. Node offers `onread`
 *   only to sockets it connects; accepted sockets get it through Node's own onread slots (see `onreadSlots`),
 *   else they fall back to 'data' events.
 * - Backpressure: both ways, a write that returns false pauses the reader until the writer's 'drain'.
 * - Half-close: sockets are `allowHalfOpen`; a FIN from one side is forwarded as a FIN to the other (`end()`
 *   on the other socket once its writes are flushed) and the session lasts until both directions are closed.
 * - Timeouts: `client` bounds the preface (PROXY header / ClientHello) and client inactivity, `server` server
 *   inactivity, and once connected `tunnel` (if > 0) replaces both (haproxy `timeout tunnel`); connect uses the
 *   service's `timeouts.connect`. Before the relay starts, and on fallback paths, inactivity uses Node's socket
 *   timers; an established relay counts idle time with one timer per session (`watchIdle`), not a timer
 *   refresh per chunk.
 * - Retries: a failed connect is retried `retries` times, each on another server when one is available
 *   (haproxy `retries` + `option redispatch` on every retry, not only the last: lb has no persistence to lose).
 * - Byte counters come from `socket.bytesRead` at close: nothing is counted per chunk.
 *
 * Hot path: socket listeners are module-level functions reaching the session through a symbol.
 */
import { listenExtras } from '../net/listen.js'
import {
  nodeInternals,
  readIntoBuffers,
  socketHandle,
  touch,
  type StreamHandle,
  type StreamWrap,
  type WriteReq as NodeWriteReq,
} from '../net/node-internals.js'
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { getSystemErrorName } from 'node:util'
import type { TcpListenerConfig, DeepReadonly } from '../config/types.js'
import type { TcpRouteSpec } from '../model/snapshot.js'
import type { Logger } from '../log/log.js'
import type { Metrics } from '../metrics/metrics.js'
import { canTake } from '../balance/pool.js'
import { canWait, failureKind, failures, mayRetry, pickServer, type FailureKind } from './request-path.js'
import type { ServiceRuntime, Upstream } from './upstream.js'
import { observeConnect, releaseSlot } from './upstream.js'
import { encodeProxy, parseProxyHeader, type ProxyHeader } from '../net/proxy-protocol.js'
import { parseClientHelloSni } from '../net/sni.js'
import type { ProxyState } from './request-path.js'

/** What TCP listeners read from the worker: the current services and TCP routes (swapped whole). */
export interface TcpContext {
  readonly state: () => ProxyState
  readonly tcpRoutes: () => readonly TcpRouteSpec[]
  readonly accessLog: Logger
  readonly log: Logger
  readonly rand: () => number
  readonly now: () => number
  readonly metrics: Metrics
}

/** Routes of one listener: exact names, `*.suffix` names (longest first), and the any-name default. */
export interface TcpRouteIndex {
  readonly exact: ReadonlyMap<string, string>
  readonly wildcard: readonly (readonly [suffix: string, service: string])[]
  readonly fallback: string
  /** Any SNI route at all: only then is the ClientHello peeked. */
  readonly sni: boolean
}

/** Pure: the routes for listener `port` (configured port; 0 for test listeners on ephemeral ports). */
export function buildTcpRoutes(routes: readonly TcpRouteSpec[], port: number): TcpRouteIndex {
  const exact = new Map<string, string>()
  const wildcard: [string, string][] = []
  let fallback = ''
  for (const r of routes) {
    if (r.port !== port && r.anyPort !== true) continue
    const name = r.serverName.toLowerCase()
    if (name === '') {
      if (fallback === '') fallback = r.service
    } else if (name.startsWith('*.')) {
      wildcard.push([name.slice(1), r.service])
    } else if (!exact.has(name)) {
      exact.set(name, r.service)
    }
  }
  wildcard.sort((a, b) => b[0].length - a[0].length)
  return { exact, wildcard, fallback, sni: exact.size > 0 || wildcard.length > 0 }
}

/** Pure: the service for a server name ('' = none or no SNI). */
export function lookupTcpRoute(index: TcpRouteIndex, serverName: string): string {
  if (serverName !== '') {
    const e = index.exact.get(serverName)
    if (e !== undefined) return e
    for (let i = 0; i < index.wildcard.length; i++) {
      const w = index.wildcard[i] as readonly [string, string]
      if (serverName.endsWith(w[0]) && serverName.length > w[0].length) return w[1]
    }
  }
  return index.fallback
}

const kSession = Symbol('lb.tcpSession')
/** A direct write (see `directWrite`) is queued in libuv on this socket. */
const kDirectPending = Symbol('lb.directPending')
/** The socket's reusable write request for direct writes. */
const kWriteReq = Symbol('lb.writeReq')
interface SessionSocket extends Socket {
  [kSession]?: TcpSession | undefined
  [kDirectPending]?: boolean
  [kWriteReq]?: WriteReq | undefined
}

/** Bytes of preface (PROXY header + ClientHello) buffered at most before giving up on parsing. */
const MAX_PREFACE = 16_384 + 5 + 536

/**
 * Bytes per read, per direction: a session starts with READ_BUFFER_SMALL and moves to READ_BUFFER after a read
 * that filled its buffer. 64 KiB is what libuv suggests for its own reads (a smaller buffer costs more read()
 * calls on bulk transfers).
 */
const READ_BUFFER_SMALL = 16 * 1024
const READ_BUFFER = 64 * 1024

/**
 * Accepted sockets read into the session's reusable buffer through Node's private onread slots
 * (src/net/node-internals.ts `readIntoBuffers`); null when this Node's internals differ or are switched off:
 * accepted sockets then use 'data' events (a fresh buffer per read).
 */
const onreadSlots = nodeInternals.onreadSlots

/** A direct write's request; its socket is the session socket it writes to. */
type WriteReq = NodeWriteReq<SessionSocket>

/**
 * Direct writes: the relay hands a read straight to the other socket's libuv handle (`handle.writeBuffer`, what
 * net.Socket's own write ends in) instead of going through Writable: no per-write WriteWrap (one request object
 * per socket is reused while writes complete at once), no write callback, no nextTick. Used only while the
 * socket's Writable side holds nothing (so order is kept: libuv queues writes in call order) and is open; a
 * write that libuv queues marks the socket pending until it completes, like a write that returned false. Node's
 * stream_wrap binding (src/net/node-internals.ts), with `_unrefTimer` to count a write as activity; null when
 * either is missing or switched off, and the relay then uses socket.write().
 */
const streamWrap: StreamWrap | null = nodeInternals.unrefTimer ? nodeInternals.streamWrap : null

export class TcpListener {
  readonly config: DeepReadonly<TcpListenerConfig>
  readonly info: { readonly name: string; port: number }
  readonly server: Server
  readonly ctx: TcpContext
  readonly sessions: Set<TcpSession>
  #routesFrom: readonly TcpRouteSpec[] | null
  #routes: TcpRouteIndex

  constructor(config: DeepReadonly<TcpListenerConfig>, ctx: TcpContext) {
    this.config = config
    this.info = { name: config.name, port: config.port }
    this.ctx = ctx
    this.sessions = new Set()
    this.#routesFrom = null
    this.#routes = buildTcpRoutes([], config.port)
    // Paused on connect so that a session can switch the client to onread before its first read.
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: onreadSlots !== null, noDelay: true })
    this.server.on('connection', (socket: Socket) => {
      new TcpSession(this, socket).start()
    })
  }

  /** The route index for the current snapshot (rebuilt when the worker swapped the TCP routes). */
  routes(): TcpRouteIndex {
    const current = this.ctx.tcpRoutes()
    if (current !== this.#routesFrom) {
      this.#routesFrom = current
      this.#routes = buildTcpRoutes(current, this.config.port)
    }
    return this.#routes
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      const opts =
        this.config.host === ''
          ? { port: this.config.port, ...listenExtras(this.config.port) }
          : { port: this.config.port, host: this.config.host, ...listenExtras(this.config.port) }
      this.server.listen(opts, () => {
        this.server.off('error', reject)
        this.info.port = (this.server.address() as AddressInfo).port
        resolve(this.info.port)
      })
    })
  }

  /** Stop accepting; sessions get `timeout` ms to finish, then are closed. */
  async close(timeout: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    if (this.sessions.size === 0) {
      await closed
      return
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const s of [...this.sessions]) s.shutdown('listener closed')
        resolve()
      }, timeout)
    })
    await Promise.race([closed, deadline])
    clearTimeout(timer)
  }
}

export class TcpSession {
  readonly listener: TcpListener
  readonly client: SessionSocket
  preface: Buffer
  proxy: ProxyHeader | null
  serverName: string
  service: ServiceRuntime | null
  upstream: Upstream | null
  avoid: Upstream | null
  server: SessionSocket | null
  /**
   * Server → client reads land here (reused: see READ_BUFFER) until a Relay takes over (then in Relay.buf);
   * EMPTY until the first attempt.
   */
  readBuffer: Buffer
  /** `onread.buffer` of the server socket: returns readBuffer (bound once per session). */
  readonly nextReadBuffer: () => Buffer
  /** Client → server reads land here when the client uses onread (see useOnread), until a Relay takes over. */
  clientBuffer: Buffer
  /** The client's onread buffer generator: returns clientBuffer (bound once per session). */
  readonly nextClientBuffer: () => Buffer
  /** The client reads through onread (clientBuffer), not 'data' events. */
  clientOnread: boolean
  /** The established relay, once both sockets are connected (see `Relay`); null on the fallback paths. */
  toServer: Relay | null
  toClient: Relay | null
  /** Bytes moved since the idle timer last looked (set by the relay; see `watchIdle`). */
  ioSeen: boolean
  /** ms without I/O as the idle timer counts it, its period, and the limits it enforces (0 = none). */
  idleFor: number
  idleTick: number
  idleClient: number
  idleServer: number
  idleTimer: ReturnType<typeof setTimeout> | null
  attempts: number
  /** A retry went to another server than the attempt before it (haproxy's `+`). */
  redispatched: boolean
  connectTimer: ReturnType<typeof setTimeout> | null
  queueTimer: ReturnType<typeof setTimeout> | null
  queued: boolean
  counted: boolean
  connected: boolean
  closed: boolean
  clientEnded: boolean
  serverEnded: boolean
  clientAddress: string
  clientPort: number
  termination: string
  reason: string
  tStart: number
  tConnect: number
  tWait: number
  tConnected: number

  constructor(listener: TcpListener, client: Socket) {
    this.listener = listener
    this.client = client as SessionSocket
    this.preface = EMPTY
    this.proxy = null
    this.serverName = ''
    this.service = null
    this.upstream = null
    this.avoid = null
    this.server = null
    this.readBuffer = EMPTY
    this.nextReadBuffer = (): Buffer => this.readBuffer
    this.clientBuffer = EMPTY
    this.nextClientBuffer = (): Buffer => this.clientBuffer
    this.clientOnread = false
    this.toServer = null
    this.toClient = null
    this.ioSeen = false
    this.idleFor = 0
    this.idleTick = 0
    this.idleClient = 0
    this.idleServer = 0
    this.idleTimer = null
    this.attempts = 0
    this.redispatched = false
    this.connectTimer = null
    this.queueTimer = null
    this.queued = false
    this.counted = false
    this.connected = false
    this.closed = false
    this.clientEnded = false
    this.serverEnded = false
    this.clientAddress = client.remoteAddress ?? ''
    this.clientPort = client.remotePort ?? 0
    this.termination = '--'
    this.reason = ''
    this.tStart = listener.ctx.now()
    this.tConnect = -1
    this.tWait = -1
    this.tConnected = -1
  }

  start(): void {
    const c = this.client
    c[kSession] = this
    this.listener.sessions.add(this)
    c.setNoDelay(true)
    c.on('error', onClientError)
    c.on('close', onClientClose)
    c.on('end', onClientEnd)
    c.setTimeout(this.listener.config.timeouts.client, onClientTimeout)
    if (onreadSlots !== null) {
      this.clientBuffer = Buffer.allocUnsafe(READ_BUFFER_SMALL)
      this.clientOnread = readIntoBuffers(c, this.nextClientBuffer, onClientRead)
      if (!this.clientOnread) this.clientBuffer = EMPTY
    }
    if (this.listener.config.acceptProxy || this.listener.routes().sni) {
      if (!this.clientOnread) c.on('data', onPrefaceData)
      c.resume()
    } else this.route()
  }

  /** Preface bytes: PROXY header first (if expected), then enough of the ClientHello (if SNI routes). */
  onPreface(chunk: Buffer): void {
    this.preface = this.preface.length === 0 ? chunk : Buffer.concat([this.preface, chunk])
    if (this.listener.config.acceptProxy && this.proxy === null) {
      const r = parseProxyHeader(this.preface)
      if (r.status === 'incomplete') return
      if (r.status === 'invalid') {
        this.reason = `PROXY protocol: ${r.reason}`
        this.close('CR')
        return
      }
      this.proxy = r.header
      if (r.header.command === 'proxy' && r.header.family !== 'unknown') {
        this.clientAddress = r.header.srcAddress
        this.clientPort = r.header.srcPort
      }
      this.preface = this.preface.subarray(r.length)
    }
    if (this.listener.routes().sni) {
      if (this.preface.length === 0) return
      const s = parseClientHelloSni(this.preface)
      if (s.status === 'incomplete' && this.preface.length < MAX_PREFACE) return
      this.serverName = s.status === 'ok' ? s.serverName : ''
    }
    if (!this.clientOnread) this.client.off('data', onPrefaceData)
    this.route()
  }

  route(): void {
    const c = this.client
    c.pause()
    const name = lookupTcpRoute(this.listener.routes(), this.serverName)
    const service = name === '' ? undefined : this.listener.ctx.state().services.get(name)
    if (service === undefined) {
      this.reason =
        name === ''
          ? `no TCP route${this.serverName === '' ? '' : ` for ${this.serverName}`}`
          : `no service ${name}`
      this.close('PR')
      return
    }
    this.service = service
    this.attempt()
  }

  attempt(): void {
    const service = this.service
    if (service === null || this.closed) return
    const up = pickServer(service, this.listener.ctx.rand, this.avoid)
    if (up === undefined) {
      if (this.enqueue(service)) return
      this.reason = `no server available for service "${service.spec.name}"`
      this.close(failures.no_server.termination)
      return
    }
    if (this.upstream !== null && up !== this.upstream) this.redispatched = true
    this.attempts++
    this.upstream = up
    if (up.address === '') {
      // Servers are reached by the address the resolver found, never by a name looked up on the spot.
      ctxMetrics(this).connectError(up, 'resolve')
      this.avoid = up
      this.retryOrClose('connect_error', up.downReason || `cannot resolve ${up.host}`)
      return
    }
    up.inflight++
    this.counted = true
    up.sessions.add(this)
    const ctx = this.listener.ctx
    this.tConnect = ctx.now()
    const host = up.address
    if (this.readBuffer === EMPTY) this.readBuffer = Buffer.allocUnsafe(READ_BUFFER_SMALL)
    const server = netConnect({
      host,
      port: up.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: { buffer: this.nextReadBuffer, callback: onServerRead },
    }) as SessionSocket
    server[kSession] = this
    this.server = server
    server.on('error', onServerError)
    server.on('close', onServerClose)
    server.once('connect', onServerConnect)
    this.connectTimer = setTimeout(onConnectTimeout, service.spec.timeouts.connect, this)
  }

  enqueue(service: ServiceRuntime): boolean {
    if (this.queued || !canWait(service) || !service.queue.push(this)) return false
    this.queued = true
    this.tWait = this.listener.ctx.now()
    this.queueTimer = setTimeout(onQueueTimeout, service.queueTimeout, this)
    return true
  }

  retryFromQueue(): boolean {
    const service = this.service
    if (service !== null && !this.closed && !canTake(service.pool)) return false
    this.leaveQueue()
    if (!this.closed) this.attempt()
    return true
  }

  leaveQueue(): void {
    if (!this.queued) return
    this.queued = false
    this.tWait = this.listener.ctx.now() - this.tWait
    if (this.queueTimer !== null) clearTimeout(this.queueTimer)
    this.queueTimer = null
    this.service?.queue.remove(this)
  }

  onConnected(): void {
    const server = this.server
    const up = this.upstream
    const service = this.service
    if (server === null || up === null || service === null) return
    if (this.connectTimer !== null) clearTimeout(this.connectTimer)
    this.connectTimer = null
    this.connected = true
    this.tConnected = this.listener.ctx.now()
    observeConnect(up, true)
    if (this.closed) return
    const sendProxy = service.spec.sendProxy ?? 'none'
    if (sendProxy !== 'none') {
      const local = this.client
      server.write(
        encodeProxy(sendProxy, {
          srcAddress: this.clientAddress,
          srcPort: this.clientPort,
          dstAddress:
            this.proxy?.family === 'tcp4' || this.proxy?.family === 'tcp6'
              ? this.proxy.dstAddress
              : (local.localAddress ?? ''),
          dstPort:
            this.proxy?.family === 'tcp4' || this.proxy?.family === 'tcp6'
              ? this.proxy.dstPort
              : (local.localPort ?? 0),
        }),
      )
    }
    if (this.preface.length > 0) server.write(this.preface)
    this.preface = EMPTY
    const t = this.listener.config.timeouts
    const clientTimeout = t.tunnel > 0 ? t.tunnel : t.client
    const serverTimeout = t.tunnel > 0 ? t.tunnel : t.server
    server.on('end', onServerEnd)
    server.on('drain', onServerDrain)
    const c = this.client
    c.on('drain', onClientDrain)
    if (!this.clientOnread) c.on('data', onClientData)
    if (this.clientEnded) server.end()
    this.toClient = startRelay(this, server, c, this.readBuffer)
    if (this.clientOnread) this.toServer = startRelay(this, c, server, this.clientBuffer)
    if (this.toClient !== null && this.toServer !== null) {
      c.setTimeout(0)
      this.watchIdle(clientTimeout, serverTimeout)
    } else {
      c.setTimeout(clientTimeout, onClientTimeout)
      server.setTimeout(serverTimeout, onServerTimeout)
    }
    c.resume()
  }

  /**
   * Inactivity timeouts of an established relay (haproxy `timeout client/server/tunnel`; 0 = none). Every
   * relayed chunk is a read on one socket and a write on the other, so it is activity on both, and one idle
   * count serves both limits. Instead of re-arming a timer per chunk (what socket.setTimeout costs on the
   * relay's hot path), the relay sets `ioSeen` and a timer looks IDLE_TICKS times per limit: the session is
   * closed once it has been idle for the limit, at most one period (limit / IDLE_TICKS) later.
   */
  watchIdle(client: number, server: number): void {
    const limit = client > 0 && server > 0 ? Math.min(client, server) : Math.max(client, server)
    if (limit <= 0) return
    this.idleClient = client
    this.idleServer = server
    this.idleTick = Math.max(1, Math.ceil(limit / IDLE_TICKS))
    this.idleFor = 0
    this.ioSeen = false
    this.idleTimer = setTimeout(onIdleTick, this.idleTick, this)
    this.idleTimer.unref()
  }

  /** Connect failed (error or timeout) before anything was sent: retry, on another server if possible. */
  onConnectFailed(kind: FailureKind, reason: string): void {
    const up = this.upstream
    if (this.connectTimer !== null) clearTimeout(this.connectTimer)
    this.connectTimer = null
    const server = this.server
    this.server = null
    if (server !== null) {
      server[kSession] = undefined
      server.destroy()
    }
    this.release()
    if (up !== null) {
      observeConnect(up, false)
      ctxMetrics(this).connectError(up, failures[kind].connectReason ?? 'other')
    }
    this.avoid = up
    this.retryOrClose(kind, reason)
  }

  /** The request path's retry rule (request-path.ts), then its termination state when there is no retry. */
  retryOrClose(kind: FailureKind, reason: string): void {
    this.reason = reason
    const service = this.service
    if (
      !this.closed &&
      service !== null &&
      this.attempts <= service.spec.retries &&
      mayRetry(kind, false, false)
    ) {
      this.attempt()
      return
    }
    this.close(failures[kind].termination)
  }

  release(): void {
    const up = this.upstream
    if (up !== null) up.sessions.delete(this)
    if (this.counted && up !== null) {
      this.counted = false
      releaseSlot(up)
    }
  }

  /** shutdown-sessions (haproxy termination `D`), listener close. */
  shutdown(reason: string): void {
    this.reason = reason
    this.close('SD')
  }

  close(termination: string): void {
    if (this.closed) return
    this.closed = true
    if (this.termination === '--') this.termination = termination
    this.leaveQueue()
    if (this.connectTimer !== null) clearTimeout(this.connectTimer)
    this.connectTimer = null
    if (this.idleTimer !== null) clearTimeout(this.idleTimer)
    this.idleTimer = null
    this.server?.destroy()
    this.client.destroy()
    this.release()
    this.listener.sessions.delete(this)
    this.log()
  }

  /** One of the sockets closed: the session ends when both are closed (or one side failed). */
  onSocketClosed(): void {
    const s = this.server
    if (this.client.destroyed && (s === null || s.destroyed))
      this.close(this.termination === '--' ? '--' : this.termination)
  }

  log(): void {
    const ctx = this.listener.ctx
    const up = this.upstream
    const Tc = this.tConnected >= 0 && this.tConnect >= 0 ? Math.round(this.tConnected - this.tConnect) : -1
    const bytesIn = this.client.bytesRead
    const bytesOut = this.server === null ? 0 : this.server.bytesRead
    ctx.metrics.observeTcp(this.listener.info.name, this.connected ? up : null, bytesIn, bytesOut)
    ctx.accessLog.info({
      ci: this.clientAddress,
      cp: this.clientPort,
      fe: this.listener.info.name,
      mode: 'tcp',
      sni: this.serverName === '' ? undefined : this.serverName,
      service: this.service === null ? null : this.service.spec.name,
      server: up === null || !this.connected ? null : up.name,
      retries: this.attempts > 0 ? this.attempts - 1 : 0,
      redispatched: this.redispatched ? true : undefined,
      Tw: this.tWait > 0 ? Math.round(this.tWait) : 0,
      Tc,
      Tt: Math.round(ctx.now() - this.tStart),
      bytes_in: bytesIn,
      bytes: bytesOut,
      ts: this.termination,
      reason: this.reason === '' ? undefined : this.reason,
    })
  }
}

const EMPTY = Buffer.alloc(0)

function onPrefaceData(this: SessionSocket, chunk: Buffer): void {
  this[kSession]?.onPreface(chunk)
}

function onClientError(this: SessionSocket, err: Error): void {
  const s = this[kSession]
  if (s === undefined) return
  if (s.reason === '') s.reason = err.message
  s.close(s.connected ? 'CD' : 'CR')
}

function onClientEnd(this: SessionSocket): void {
  const s = this[kSession]
  if (s === undefined) return
  s.clientEnded = true
  // Before the tunnel exists the FIN is remembered and forwarded once connected (onConnected).
  if (s.connected) s.server?.end()
  else if (s.service === null && s.preface.length === 0) s.close('CR')
}

function onClientClose(this: SessionSocket): void {
  const s = this[kSession]
  if (s === undefined) return
  if (!s.connected) s.close(s.termination === '--' ? 'CC' : s.termination)
  else s.onSocketClosed()
}

function onClientTimeout(this: SessionSocket): void {
  const s = this[kSession]
  if (s === undefined) return
  s.reason = 'client timeout'
  s.close(s.connected ? 'cD' : 'cR')
}

function onServerConnect(this: SessionSocket): void {
  this[kSession]?.onConnected()
}

function onServerError(this: SessionSocket, err: Error): void {
  const s = this[kSession]
  if (s === undefined) return
  if (!s.connected) s.onConnectFailed(failureKind(err, true), errorText(err))
  else {
    if (s.reason === '') s.reason = errorText(err)
    s.close('SD')
  }
}

function onServerEnd(this: SessionSocket): void {
  const s = this[kSession]
  if (s === undefined) return
  s.serverEnded = true
  s.client.end()
}

/** Client → server ('data' events, when the client cannot use onread): a full server buffer pauses the client. */
function onClientData(this: SessionSocket, chunk: Buffer): void {
  const s = this[kSession]
  if (s !== undefined && s.server !== null && !s.server.write(chunk)) this.pause()
}

/**
 * Client → server through onread: `n` bytes read into the session's clientBuffer. Connected: written to the
 * server; false (stop reading) while that write is pending, since it still references the buffer
 * (onServerDrain resumes). Before that, the bytes are the preface (PROXY header, ClientHello): copied out, as
 * the buffer is reused.
 */
function onClientRead(this: SessionSocket, n: number, buf: Buffer): boolean {
  const s = this[kSession]
  if (s === undefined) return false
  const server = s.server
  if (s.connected && server !== null) {
    const next = relay(server, n, buf)
    if (next === null) return false
    s.clientBuffer = next
    return true
  }
  if (s.service !== null || s.closed) return false
  s.onPreface(Buffer.from(buf.subarray(0, n)))
  return s.service === null && !s.closed
}

/** Server → client: `n` bytes read into the session's reusable buffer, written to the client (see afterRelay). */
function onServerRead(this: SessionSocket, n: number, buf: Buffer): boolean {
  const s = this[kSession]
  if (s === undefined || s.server !== this) return false
  const c = s.client
  const next = relay(c, n, buf)
  if (next === null) return false
  s.readBuffer = next
  return true
}

/**
 * Write `n` bytes of the read buffer `buf` to `w`: directly to its handle when possible (see `streamWrap`),
 * else with write(). Returns the buffer for the next read, or null to stop reading until `w`'s 'drain'.
 */
function relay(w: SessionSocket, n: number, buf: Buffer): Buffer | null {
  const data = n === buf.length ? buf : buf.subarray(0, n)
  const sw = streamWrap
  const handle = sw === null ? null : socketHandle<StreamHandle>(w)
  if (sw === null || handle === null || w[kDirectPending] === true || w.writableLength > 0) {
    return afterRelay(w, w.write(data), n, buf)
  }
  if (w.connecting || w.writableEnded || w.destroyed) return afterRelay(w, w.write(data), n, buf)
  let req = w[kWriteReq]
  if (req === undefined || req.handle !== handle) {
    req = newWriteReq(sw, handle, w)
    w[kWriteReq] = req
  }
  const err = handle.writeBuffer(req as NodeWriteReq<Socket>, data)
  // A write is activity on `w` for its inactivity timeout, as Node's own writes count.
  touch(w)
  if (err !== 0) {
    w.destroy(new Error(`write failed: ${uvErrorName(err)}`))
    return null
  }
  if (sw.streamBaseState[sw.kLastWriteWasAsync] === 0)
    return n === buf.length && buf.length < READ_BUFFER ? Buffer.allocUnsafe(READ_BUFFER) : buf
  // Queued in libuv: the request now belongs to that write (and holds `data`); the reader waits for it.
  req.buffer = data
  w[kWriteReq] = undefined
  w[kDirectPending] = true
  return null
}

/** A TCP handle as the established relay drives it (see `Relay`). */
interface RelayHandle extends StreamHandle {
  onread: (this: RelayHandle, arrayBuffer: unknown) => unknown
  reading: boolean
  readStop(): number
  lbRelay?: Relay
}

/**
 * One direction of an established session: what `from`'s handle reads goes to `to`'s handle. Once both sockets
 * are connected, a Relay takes over `from`'s handle.onread (`onRelayRead`): a read of n > 0 bytes is written
 * to the other handle there, without Node's onStreamRead and its lookups of net.Socket's private slots, and
 * without the per-read symbol lookups on sockets of differing shapes (measured: see bench/tcp-cpu.ts). All
 * other reads (end of stream, errors) still go to Node's own onread, so 'end', 'error' and 'close' are
 * net.Socket's as before. Reads keep going into the session's reusable buffers; while a write to `to` is
 * queued, `from` stops reading (the queued write references the buffer) until onDirectWritten resumes it.
 */
class Relay {
  readonly session: TcpSession
  readonly to: SessionSocket
  readonly toHandle: RelayHandle
  /** Node's onread of `from`'s handle (onStreamRead): gets every read that is not data. */
  readonly nodeOnread: (this: RelayHandle, arrayBuffer: unknown) => unknown
  /** The buffer `from` reads into (from the session's buffer at the takeover on, the Relay's alone). */
  buf: Buffer
  /** The request for the next direct write (null after one was queued: it belongs to that write). */
  req: WriteReq | null
  /** Writes may go to toHandle directly (see `streamWrap`); rechecked after a queued or a Writable write. */
  direct: boolean
  /** The last write's view of `viewOf` (kept: request/response traffic repeats lengths, one view serves). */
  view: Buffer
  viewOf: Buffer

  constructor(session: TcpSession, fromHandle: RelayHandle, to: SessionSocket, buf: Buffer) {
    this.session = session
    this.to = to
    this.toHandle = socketHandle<RelayHandle>(to) as RelayHandle
    this.nodeOnread = fromHandle.onread
    this.buf = buf
    this.req = null
    this.direct = false
    this.view = EMPTY
    this.viewOf = EMPTY
  }

  /** Whether the next write may go to the handle directly: nothing queued on `to`, which is open and writable. */
  recheck(): boolean {
    const w = this.to
    const handle = socketHandle<RelayHandle>(w)
    const sw = streamWrap
    this.direct =
      sw !== null &&
      handle === this.toHandle &&
      w[kDirectPending] !== true &&
      w.writableLength === 0 &&
      !w.connecting &&
      !w.writableEnded &&
      !w.destroyed
    if (this.direct && this.req === null && sw !== null) this.req = newWriteReq(sw, handle, w)
    return this.direct
  }
}

/**
 * Take over the reads of `from` for the relay to `to` (see `Relay`): only when `from` reads into the session's
 * buffer (onread) and Node's stream_wrap binding is there; else `from` keeps its onread callback.
 */
function startRelay(session: TcpSession, from: SessionSocket, to: SessionSocket, buf: Buffer): Relay | null {
  if (streamWrap === null) return null
  const handle = socketHandle<RelayHandle>(from)
  const toHandle = socketHandle<RelayHandle>(to)
  if (handle === null || toHandle === null || typeof handle.onread !== 'function') return null
  const r = new Relay(session, handle, to, buf)
  handle.lbRelay = r
  handle.onread = onRelayRead
  return r
}

/**
 * handle.onread of a relayed socket (this = its handle; see `Relay`). Returns a Buffer to switch the handle's
 * read buffer, as Node's onStreamRead does for `onread` sockets.
 */
function onRelayRead(this: RelayHandle, arrayBuffer: unknown): unknown {
  const r = this.lbRelay as Relay
  const sw = streamWrap as StreamWrap
  const n = sw.streamBaseState[sw.kReadBytesOrError] as number
  if (n <= 0) return r.nodeOnread.call(this, arrayBuffer)
  r.session.ioSeen = true
  const buf = r.buf
  let next: Buffer | null
  if (r.direct || r.recheck()) {
    let data = r.view
    if (data.length !== n || r.viewOf !== buf) {
      data = n === buf.length ? buf : buf.subarray(0, n)
      r.view = data
      r.viewOf = buf
    }
    const req = r.req as WriteReq
    const err = r.toHandle.writeBuffer(req as NodeWriteReq<Socket>, data)
    if (err !== 0) {
      r.to.destroy(new Error(`write failed: ${uvErrorName(err)}`))
      next = null
    } else if (sw.streamBaseState[sw.kLastWriteWasAsync] === 0) {
      next = n === buf.length && buf.length < READ_BUFFER ? Buffer.allocUnsafe(READ_BUFFER) : buf
    } else {
      // Queued in libuv: the request now belongs to that write (and holds `data`); reading waits for it.
      req.buffer = data
      r.req = null
      r.direct = false
      r.to[kDirectPending] = true
      next = null
    }
  } else {
    next = relay(r.to, n, buf)
    r.direct = false
  }
  if (next === null) {
    this.reading = false
    this.readStop()
    return undefined
  }
  if (next === buf) return undefined
  r.buf = next
  return next
}

/** A request for direct writes of `w` to its handle (completions go to onDirectWritten). */
function newWriteReq(sw: StreamWrap, handle: unknown, w: SessionSocket): WriteReq {
  const req = new sw.WriteWrap() as unknown as WriteReq
  req.handle = handle
  req.oncomplete = onDirectWritten
  req.socket = w
  req.buffer = null
  return req
}

/** A queued direct write completed (this = its request): resume the other socket's reads, as 'drain' does. */
function onDirectWritten(this: WriteReq, status: number): void {
  const w = this.socket
  this.buffer = null
  this.socket = null
  if (w === null) return
  w[kDirectPending] = false
  if (status < 0) {
    if (!w.destroyed) w.destroy(new Error(`write failed: ${uvErrorName(status)}`))
    return
  }
  const sess = w[kSession]
  if (sess === undefined) return
  sess.ioSeen = true
  if (sess.server === w) sess.client.resume()
  else sess.server?.resume()
}

function uvErrorName(code: number): string {
  try {
    return getSystemErrorName(code)
  } catch {
    return String(code)
  }
}

/**
 * After `n` bytes of the read buffer `buf` were written to `w` (`ok`: what write() returned): the buffer for the
 * next read, or null to stop reading until `w`'s 'drain'.
 * - all handed to the kernel: `buf` again, or a READ_BUFFER one when this read filled a small buffer;
 * - still queued and write() returned false: null ('drain' follows; the queued write holds `buf`);
 * - still queued although write() returned true (a chunk below the high-water mark; no 'drain' will come): a
 *   fresh buffer, since the queued write holds `buf`. The writer's own buffering stays bounded: once it reaches
 *   the high-water mark, write() returns false.
 */
function afterRelay(w: Socket, ok: boolean, n: number, buf: Buffer): Buffer | null {
  if (w.writableLength === 0)
    return n === buf.length && buf.length < READ_BUFFER ? Buffer.allocUnsafe(READ_BUFFER) : buf
  return ok ? Buffer.allocUnsafe(buf.length) : null
}

function onServerDrain(this: SessionSocket): void {
  const s = this[kSession]
  if (s !== undefined && s.server === this) s.client.resume()
}

function onClientDrain(this: SessionSocket): void {
  this[kSession]?.server?.resume()
}

function onServerClose(this: SessionSocket): void {
  const s = this[kSession]
  if (s === undefined || s.server !== this) return
  if (!s.connected) s.onConnectFailed('connect_error', 'connection closed')
  else s.onSocketClosed()
}

function onServerTimeout(this: SessionSocket): void {
  const s = this[kSession]
  if (s === undefined) return
  s.reason = 'server timeout'
  s.close('sD')
}

/** Checks per inactivity limit (see `watchIdle`): a session is closed at most limit / IDLE_TICKS late. */
const IDLE_TICKS = 8

function onIdleTick(s: TcpSession): void {
  if (s.closed || s.idleTimer === null) return
  if (s.ioSeen) {
    s.ioSeen = false
    s.idleFor = 0
  } else s.idleFor += s.idleTick
  if (s.idleClient > 0 && s.idleFor >= s.idleClient) {
    s.reason = 'client timeout'
    s.close('cD')
  } else if (s.idleServer > 0 && s.idleFor >= s.idleServer) {
    s.reason = 'server timeout'
    s.close('sD')
  } else {
    // A new timer rather than refresh(): node:test's mock timers (Node 20) do not re-arm refreshed timers.
    s.idleTimer = setTimeout(onIdleTick, s.idleTick, s)
    s.idleTimer.unref()
  }
}

function onConnectTimeout(s: TcpSession): void {
  s.connectTimer = null
  if (!s.connected) s.onConnectFailed('connect_timeout', 'connect timeout')
}

function onQueueTimeout(s: TcpSession): void {
  s.queueTimer = null
  if (!s.queued) return
  s.leaveQueue()
  s.reason = 'queue timeout'
  s.close(failures.queue_timeout.termination)
}

function ctxMetrics(s: TcpSession): Metrics {
  return s.listener.ctx.metrics
}

function errorText(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code
  return code !== undefined && !err.message.includes(code) ? `${code} ${err.message}` : err.message
}
