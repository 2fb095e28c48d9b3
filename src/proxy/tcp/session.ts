/**
 * One TCP session (haproxy `mode tcp`): accept → optional PROXY header → optional SNI peek → route by port (and
 * server name) → pick with the service's picker → connect (timeout, retries with redispatch) → optional PROXY
 * header to the server → relay both ways (src/proxy/tcp/relay.ts).
 *
 * - Bytes are never altered: the ClientHello is only peeked, so TLS passes through end to end. On a listener
 *   with `tls` the client is the TLSSocket of lb's own handshake (listener.ts, `startTls`): the plain bytes are
 *   relayed, the client side through 'data' events and TLSSocket.write (no onread, no direct handle writes).
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
 * Hot path: socket listeners are module-level functions reaching the session through a symbol. The class and
 * its handlers stay in one file (over 500 lines): the handlers read and write the session's fields directly.
 */
import { connect as netConnect, type Socket } from 'node:net'
import { nodeInternals, readIntoBuffers } from '../../net/node-internals.js'
import type { Metrics } from '../../metrics/metrics.js'
import { canTake } from '../../balance/pool.js'
import { canWait, failureKind, failures, mayRetry, pickServer, type FailureKind } from '../request-path.js'
import type { ServiceRuntime, Upstream } from '../upstream.js'
import { observeConnect, releaseSlot } from '../upstream.js'
import { encodeProxy, parseProxyHeader, type ProxyHeader } from '../../net/proxy-protocol.js'
import { parseClientHelloSni } from '../../net/sni.js'
import { lookupTcpRoute } from '../../route/tcp.js'
import { errorText } from '../../model/errors.js'
import type { TcpListener } from './listener.js'
import {
  EMPTY,
  kSession,
  READ_BUFFER_SMALL,
  relay,
  relayWrite,
  startRelay,
  type Relay,
  type SessionSocket,
} from './relay.js'

/** Bytes of preface (PROXY header + ClientHello) buffered at most before giving up on parsing. */
const MAX_PREFACE = 16_384 + 5 + 536

/**
 * Accepted sockets read into the session's reusable buffer through Node's private onread slots
 * (src/net/node-internals.ts `readIntoBuffers`); null when this Node's internals differ or are switched off:
 * accepted sockets then use 'data' events (a fresh buffer per read).
 */
const onreadSlots = nodeInternals.onreadSlots

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
  /** The client is a TLSSocket lb terminated (`startTls`). */
  clientTls: boolean
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
    this.clientTls = false
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

  /**
   * A client whose TLS handshake lb did (listener.ts): the PROXY header and the server name came with it, so
   * the session routes at once.
   */
  startTls(proxy: ProxyHeader | null, serverName: string): void {
    const c = this.client
    c[kSession] = this
    this.clientTls = true
    this.listener.sessions.add(this)
    c.on('error', onClientError)
    c.on('close', onClientClose)
    c.on('end', onClientEnd)
    c.setTimeout(this.listener.config.timeouts.client, onClientTimeout)
    this.proxy = proxy
    if (proxy !== null && proxy.command === 'proxy' && proxy.family !== 'unknown') {
      this.clientAddress = proxy.srcAddress
      this.clientPort = proxy.srcPort
    }
    this.serverName = serverName.toLowerCase()
    this.route()
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
    this.toClient = this.clientTls ? null : startRelay(this, server, c, this.readBuffer)
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
  const next = s.clientTls ? relayWrite(c, n, buf) : relay(c, n, buf)
  if (next === null) return false
  s.readBuffer = next
  return true
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
