/**
 * Upgrade (WebSocket and other protocols) tunnels: route like a request, connect to a server, send the
 * request head, then pipe bytes both ways with an idle timeout (haproxy `timeout tunnel`).
 *
 * Our own ~150 lines instead of http-proxy-3's ws pass: http-proxy-3 2.x needs Node ≥ 22 (lb supports
 * 20.18), it forwards client X-Forwarded-* untrusted, and we need lb's routing, retries and headers here.
 */
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { IncomingMessage } from 'node:http'
import { lookupHttp, routeAllows, type Route } from '../route/table.js'
import { selectBackend } from '../balance/pool.js'
import type { Upstream, ServiceRuntime } from './upstream.js'
import { releaseSlot } from './upstream.js'
import { identifyClient, rewritePath, type ProxyContext, type ListenerInfo } from './http.js'
import { buildUpstreamHeaders, findHeader, forwardedProto } from './headers.js'
import { checkAuth } from '../route/auth.js'
import { connectReason } from '../metrics.js'

const STATUS_TEXT: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

/** Every open tunnel, so shutdown can close them at its deadline. */
/** How long a tunnel stays half-closed after one side sent FIN before both sides are closed. */
export const FIN_TIMEOUT = 1_000

export class TunnelRegistry {
  readonly open: Set<Tunnel> = new Set()
  closeAll(): void {
    for (const t of this.open) t.destroy('shutdown')
  }
}

export class Tunnel {
  readonly ctx: ProxyContext
  readonly listener: ListenerInfo
  readonly registry: TunnelRegistry
  readonly req: IncomingMessage
  readonly client: Socket
  readonly head: Buffer
  readonly tunnelTimeout: number
  readonly connectTimeout: number
  route: Route | null
  service: ServiceRuntime | null
  upstream: Upstream | null
  avoid: Upstream | null
  server: Socket | null
  attempts: number
  status: number
  requestId: string
  clientIp: string
  trusted: boolean
  termination: string
  reason: string
  tStart: number
  bytesIn: number
  bytesOut: number
  closed: boolean
  /** The current upstream's inflight counter includes this tunnel. */
  counted: boolean
  connectTimer: NodeJS.Timeout | null
  finTimer: NodeJS.Timeout | null

  constructor(
    ctx: ProxyContext,
    listener: ListenerInfo,
    registry: TunnelRegistry,
    tunnelTimeout: number,
    req: IncomingMessage,
    client: Socket,
    head: Buffer,
  ) {
    this.ctx = ctx
    this.listener = listener
    this.registry = registry
    this.req = req
    this.client = client
    this.head = head
    this.tunnelTimeout = tunnelTimeout
    this.connectTimeout = 5_000
    this.route = null
    this.service = null
    this.upstream = null
    this.avoid = null
    this.server = null
    this.attempts = 0
    this.status = 0
    this.requestId = ''
    this.clientIp = ''
    this.trusted = false
    this.termination = '--'
    this.reason = ''
    this.tStart = ctx.now()
    this.bytesIn = 0
    this.bytesOut = 0
    this.closed = false
    this.counted = false
    this.connectTimer = null
    this.finTimer = null
  }

  start(): void {
    const ctx = this.ctx
    const req = this.req
    this.registry.open.add(this)
    this.client.on('error', () => this.destroy('CD'))
    this.client.on('close', () => this.destroy(this.termination === '--' ? 'CD' : this.termination))
    this.trusted = identifyClient(ctx, req, this)
    const tls = this.listener.proto === 'https'
    const xfp = this.trusted ? forwardedProto(req.rawHeaders) : ''
    const route = lookupHttp(ctx.state.table, req.headers.host, req.url ?? '/', tls, xfp)
    if (route === undefined || route.redirect !== null) {
      this.reject(404, 'PR', 'no route')
      return
    }
    this.route = route
    // The same allow/deny ACL as plain requests: an Upgrade must not be a way around it.
    if ((route.allow !== null || route.deny !== null) && !routeAllows(route, this.clientIp)) {
      this.reject(403, 'PR', 'access denied')
      return
    }
    // The same auth= check as plain requests.
    if (
      route.auth !== '' &&
      !checkAuth(ctx.auth.get(route.auth), findHeader(req.rawHeaders, 'authorization'))
    ) {
      this.reject(401, 'PR', 'authentication required')
      return
    }
    const service = ctx.state.services.get(route.service)
    if (service === undefined) {
      this.reject(503, 'SC', 'no service')
      return
    }
    this.service = service
    this.attempt()
  }

  attempt(): void {
    const service = this.service
    if (service === null) return
    const up = selectBackend(service.pool, this.ctx.rand, this.avoid) as Upstream | undefined
    if (up === undefined) {
      this.reject(503, 'SC', 'no server available')
      return
    }
    this.attempts++
    this.upstream = up
    if (up.address === '') {
      this.ctx.metrics.connectError(up, 'resolve')
      this.avoid = up
      this.retryOrReject(up.downReason || 'no address')
      return
    }
    up.inflight++
    this.counted = true
    const opts = { host: up.address, port: up.port }
    const server =
      service.spec.proto === 'https'
        ? tlsConnect({ ...opts, servername: up.host, rejectUnauthorized: !service.spec.tlsSkipVerify })
        : netConnect(opts)
    this.server = server
    server.setNoDelay(true)
    this.connectTimer = setTimeout(
      () => server.destroy(new Error('connect timeout')),
      service.spec.timeouts.connect,
    )
    server.once(service.spec.proto === 'https' ? 'secureConnect' : 'connect', () => this.onServerConnect())
    server.once('error', (err: Error) => this.onServerError(err))
  }

  onServerConnect(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer)
    this.connectTimer = null
    const server = this.server
    const route = this.route
    const up = this.upstream
    if (server === null || route === null || up === null) return
    if (this.closed) {
      server.destroy()
      return
    }
    const req = this.req
    const headers = buildUpstreamHeaders(req.rawHeaders, {
      remoteAddress: req.socket.remoteAddress ?? '',
      clientAddress: this.clientIp,
      trusted: this.trusted,
      proto: this.listener.proto,
      localPort: this.listener.port,
      httpVersion: req.httpVersion,
      websocket: true,
      clientIpHeader: this.ctx.clientIpHeader,
      clientIpLower: this.ctx.clientIpLower,
      forwardedBy: this.ctx.forwardedBy,
      hostHeader: route.hostHeader === 'dst' ? up.hostPort : route.hostHeader,
      prefix: route.strip,
      requestIdHeader: this.ctx.requestIdHeader,
      requestId: this.requestId,
    })
    let head = `${req.method ?? 'GET'} ${rewritePath(req.url ?? '/', route)} HTTP/1.1\r\n`
    for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`
    head += `connection: upgrade\r\nupgrade: ${req.headers.upgrade ?? 'websocket'}\r\n\r\n`
    server.write(head)
    if (this.head.length > 0) server.write(this.head)
    server.once('data', (chunk: Buffer) => this.onFirstResponseChunk(chunk))
    server.on('close', () => this.destroy(this.termination === '--' ? 'SD' : this.termination))
    server.setTimeout(this.tunnelTimeout, () => this.destroy('sD'))
    this.client.setTimeout(this.tunnelTimeout, () => this.destroy('cD'))
    this.client.on('data', (c: Buffer) => {
      this.bytesIn += c.length
    })
    server.on('data', (c: Buffer) => {
      this.bytesOut += c.length
    })
    // Half-close: a FIN is passed on (pipe ends the other side), then the tunnel gets FIN_TIMEOUT to finish
    // (haproxy `timeout client-fin`/`server-fin`), so a peer that never closes its side cannot hold it open.
    this.client.once('end', () => this.startFinTimer('CD'))
    server.once('end', () => this.startFinTimer('SD'))
    this.client.pipe(server)
    server.pipe(this.client)
    // Open on this server from now on: `on_marked_down: shutdown-sessions` cuts it (Upstreams.shutdownSessions).
    up.sessions.add(this)
  }

  onFirstResponseChunk(chunk: Buffer): void {
    // "HTTP/1.1 101 ..." → status for the log; the bytes themselves flow through the pipe untouched.
    const sp = chunk.indexOf(32)
    if (sp > 0) this.status = Number.parseInt(chunk.toString('latin1', sp + 1, sp + 4), 10) || 0
  }

  onServerError(err: Error): void {
    const connecting = this.connectTimer !== null
    if (this.connectTimer !== null) clearTimeout(this.connectTimer)
    this.connectTimer = null
    const up = this.upstream
    if (connecting && up !== null) {
      const code = (err as NodeJS.ErrnoException).code ?? ''
      this.ctx.metrics.connectError(up, err.message === 'connect timeout' ? 'timeout' : connectReason(code))
    }
    this.release()
    if (this.status === 0 && this.bytesOut === 0 && !this.closed) {
      this.avoid = up
      this.server = null
      this.retryOrReject(err.message)
      return
    }
    this.reason = err.message
    this.destroy('SD')
  }

  startFinTimer(termination: string): void {
    if (this.closed || this.finTimer !== null) return
    this.finTimer = setTimeout(() => this.destroy(termination), FIN_TIMEOUT)
    this.finTimer.unref()
  }

  /** shutdown-sessions (haproxy termination `D`): the server was marked DOWN. */
  shutdown(reason: string): void {
    this.reason = reason
    this.destroy('SD')
  }

  release(): void {
    if (this.counted && this.upstream !== null) releaseSlot(this.upstream)
    this.counted = false
  }

  retryOrReject(reason: string): void {
    const service = this.service
    if (service !== null && this.attempts <= service.spec.retries) {
      this.reason = reason
      this.attempt()
      return
    }
    this.reject(reason.includes('timeout') ? 504 : 502, 'SC', reason)
  }

  reject(status: number, termination: string, reason: string): void {
    this.status = status
    this.reason = reason
    const body = `${reason}\n`
    const client = this.client
    if (client.writable) {
      client.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      )
    }
    this.destroy(termination, false)
  }

  destroy(termination: string, now = true): void {
    if (this.closed) return
    this.closed = true
    this.termination = termination
    if (this.connectTimer !== null) clearTimeout(this.connectTimer)
    if (this.finTimer !== null) clearTimeout(this.finTimer)
    this.registry.open.delete(this)
    this.upstream?.sessions.delete(this)
    const server = this.server
    if (server !== null) server.destroy()
    this.release()
    if (now) this.client.destroy()
    this.log()
  }

  log(): void {
    const route = this.route
    const up = this.upstream
    this.ctx.metrics.observeTunnel(this)
    this.ctx.accessLog.info({
      ci: this.clientIp,
      fe: this.listener.name,
      method: this.req.method,
      host: this.req.headers.host,
      uri: this.req.url,
      upgrade: this.req.headers.upgrade,
      status: this.status,
      bytes: this.bytesOut,
      bytes_in: this.bytesIn,
      route: route === null ? null : route.host + route.path,
      service: route === null ? null : route.service,
      server: up === null ? null : up.name,
      retries: this.attempts > 0 ? this.attempts - 1 : 0,
      Ta: Math.round(this.ctx.now() - this.tStart),
      ts: this.termination,
      reason: this.reason === '' ? undefined : this.reason,
      rid: this.requestId === '' ? undefined : this.requestId,
    })
  }
}
