/**
 * Upgrade tunnels (WebSocket and other protocols): what an exchange becomes once its server answered
 * `101 Switching Protocols` with the protocol the client asked for. From then on bytes flow both ways untouched,
 * with an idle timeout (haproxy `timeout tunnel`).
 *
 * - The client connection keeps reading its socket and hands every read to the tunnel (`fromClient`); client bytes
 *   that followed the Upgrade request were held until the 101 arrived and are the first sent up. Bytes the server
 *   sent right after its 101 are the first sent down. Both directions pause the reading side while the other
 *   cannot take more.
 * - Half-close: a FIN is passed on, then the tunnel gets FIN_TIMEOUT to finish
 *   (haproxy `timeout client-fin`/`server-fin`), so a peer that never closes its side cannot hold it open.
 * - The tunnel holds its server slot (`inflight`) until it closes, is listed in the server's sessions for
 *   `on_marked_down: shutdown-sessions`, and in the process's tunnels for shutdown.
 * - One access-log line when it closes (status 101, bytes both ways, termination state).
 */
import type { Socket } from 'node:net'
import type { Route } from '../route/table.js'
import type { ServiceRuntime, Upstream } from './upstream.js'
import { releaseSlot } from './upstream.js'
import type { ListenerInfo, ProxyContext } from './context.js'
import type { ClientConn } from './h1/client-conn.js'

/** How long a tunnel stays half-closed after one side sent FIN before both sides are closed. */
export const FIN_TIMEOUT = 1_000

/** What a tunnel takes over from its exchange. */
export interface TunnelOrigin {
  readonly ctx: ProxyContext
  readonly listener: ListenerInfo
  readonly route: Route | null
  readonly service: ServiceRuntime | null
  readonly upstream: Upstream | null
  readonly attempts: number
  readonly redispatched: boolean
  readonly clientIp: string
  readonly requestId: string
  readonly method: string
  readonly head: {
    readonly host: string | undefined
    readonly target: string
    readonly upgrade: string
  } | null
  readonly tStart: number
  readonly tConnect: number
  readonly tDispatch: number
}

export class Tunnel {
  readonly ctx: ProxyContext
  readonly listener: ListenerInfo
  readonly conn: ClientConn
  readonly client: Socket
  readonly server: Socket
  readonly route: Route | null
  readonly service: ServiceRuntime | null
  readonly upstream: Upstream | null
  readonly attempts: number
  readonly redispatched: boolean
  readonly clientIp: string
  readonly requestId: string
  readonly method: string
  readonly host: string | undefined
  readonly uri: string
  readonly upgrade: string
  readonly tStart: number
  readonly Tc: number
  status: number
  termination: string
  reason: string
  bytesIn: number
  bytesOut: number
  closed: boolean
  finTimer: NodeJS.Timeout | null

  constructor(origin: TunnelOrigin, conn: ClientConn, server: Socket) {
    this.ctx = origin.ctx
    this.listener = origin.listener
    this.conn = conn
    this.client = conn.socket
    this.server = server
    this.route = origin.route
    this.service = origin.service
    this.upstream = origin.upstream
    this.attempts = origin.attempts
    this.redispatched = origin.redispatched
    this.clientIp = origin.clientIp
    this.requestId = origin.requestId
    this.method = origin.method
    this.host = origin.head?.host
    this.uri = origin.head?.target ?? ''
    this.upgrade = origin.head?.upgrade ?? ''
    this.tStart = origin.tStart
    this.Tc =
      origin.tConnect >= 0 && origin.tDispatch >= 0 ? Math.round(origin.tConnect - origin.tDispatch) : -1
    this.status = 101
    this.termination = '--'
    this.reason = ''
    this.bytesIn = 0
    this.bytesOut = 0
    this.closed = false
    this.finTimer = null
  }

  /** Client bytes (the client connection still reads its socket and hands them here). */
  fromClient(chunk: Buffer): void {
    const server = this.server
    if (!server.write(chunk)) this.client.pause()
    // The write keeps a reference to the chunk: the client connection must not read into it again.
    if (server.writableLength > 0) this.conn.lent = true
  }

  clientDrained(): void {
    this.server.resume()
  }

  /** The client sent FIN: pass it on, then give the server FIN_TIMEOUT to finish. */
  clientEnded(): void {
    this.server.end()
    this.startFinTimer('CD')
  }

  clientClosed(): void {
    this.destroy(this.termination === '--' ? 'CD' : this.termination)
  }

  /** shutdown-sessions (haproxy termination `D`): the server was marked DOWN. */
  shutdown(reason: string): void {
    this.reason = reason
    this.destroy('SD')
  }

  startFinTimer(termination: string): void {
    if (this.closed || this.finTimer !== null) return
    this.finTimer = setTimeout(finTimeout, FIN_TIMEOUT, this, termination)
    this.finTimer.unref()
  }

  destroy(termination: string): void {
    if (this.closed) return
    this.closed = true
    this.termination = termination
    if (this.finTimer !== null) clearTimeout(this.finTimer)
    this.ctx.tunnels.open.delete(this)
    const up = this.upstream
    if (up !== null) {
      up.sessions.delete(this)
      releaseSlot(up)
    }
    this.bytesIn = this.client.bytesRead
    this.bytesOut = this.server.bytesRead
    this.server.destroy()
    this.client.destroy()
    this.log()
  }

  log(): void {
    const route = this.route
    const up = this.upstream
    this.ctx.metrics.observeTunnel(this)
    this.ctx.accessLog.info({
      ci: this.clientIp,
      cp: this.conn.remotePort,
      fe: this.listener.name,
      method: this.method,
      host: this.host,
      uri: this.uri,
      upgrade: this.upgrade,
      status: this.status,
      bytes: this.bytesOut,
      bytes_in: this.bytesIn,
      route: route === null ? null : route.host + route.path,
      service: route === null ? null : route.service,
      server: up === null ? null : up.name,
      retries: this.attempts > 0 ? this.attempts - 1 : 0,
      redispatched: this.redispatched ? true : undefined,
      Tc: this.Tc,
      Ta: Math.round(this.ctx.now() - this.tStart),
      ts: this.termination,
      reason: this.reason === '' ? undefined : this.reason,
      rid: this.requestId === '' ? undefined : this.requestId,
    })
  }
}

const kTunnel = Symbol('lb.tunnel')
interface TunnelSocket extends Socket {
  [kTunnel]: Tunnel
}

/**
 * Start relaying after a 101: the client connection hands its bytes over (`held`: what it received after the
 * Upgrade request); `rest` are server bytes that followed the 101 in the same read.
 */
export function startTunnel(
  origin: TunnelOrigin,
  conn: ClientConn,
  server: Socket,
  rest: Buffer | null,
): Tunnel {
  const t = new Tunnel(origin, conn, server)
  origin.ctx.tunnels.open.add(t)
  origin.upstream?.sessions.add(t)
  const s = server as TunnelSocket
  const c = conn.socket as TunnelSocket
  s[kTunnel] = t
  c[kTunnel] = t
  server.on('data', onServerData)
  server.on('drain', onServerDrain)
  server.on('error', onServerError)
  server.on('close', onServerClose)
  server.once('end', onServerEnd)
  const idle = origin.ctx.timeouts.tunnel
  if (idle > 0) {
    conn.socket.setTimeout(idle, onClientIdle)
    server.setTimeout(idle, onServerIdle)
  }
  if (rest !== null) conn.socket.write(rest)
  const held = conn.toTunnel(t)
  if (held !== null) server.write(held)
  if (conn.socket.isPaused()) conn.socket.resume()
  return t
}

function finTimeout(t: Tunnel, termination: string): void {
  t.destroy(termination)
}

function onServerData(this: TunnelSocket, chunk: Buffer): void {
  const t = this[kTunnel]
  if (!t.client.write(chunk)) this.pause()
}

function onServerDrain(this: TunnelSocket): void {
  this[kTunnel].client.resume()
}

function onServerError(this: TunnelSocket, err: Error): void {
  const t = this[kTunnel]
  if (t.reason === '') t.reason = err.message
  t.destroy('SD')
}

function onServerClose(this: TunnelSocket): void {
  const t = this[kTunnel]
  t.destroy(t.termination === '--' ? 'SD' : t.termination)
}

/** The server sent FIN: pass it on, then give the client FIN_TIMEOUT to finish. */
function onServerEnd(this: TunnelSocket): void {
  const t = this[kTunnel]
  t.client.end()
  t.startFinTimer('SD')
}

function onClientIdle(this: TunnelSocket): void {
  this[kTunnel].destroy('cD')
}

function onServerIdle(this: TunnelSocket): void {
  this[kTunnel].destroy('sD')
}
