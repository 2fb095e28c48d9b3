/**
 * HTTP reverse proxy: lookup → pick → forward, streaming both ways, failures mapped to EdgeErrors.
 *
 * Hot path (STYLE §9): one Exchange object per request is the engine's response handler; the socket
 * and response listeners are module-level functions that reach it through `LbResponse.exchange`.
 */
import { connectReason, type Metrics } from '../metrics.js'
import { ServerResponse, type IncomingMessage } from 'node:http'
import type { RouteTable, Route } from '../route/table.js'
import { lookupHttp, routeAllows } from '../route/table.js'
import { redirectLocation } from '../route/redirect.js'
import { targetHostHeader, targetPath } from '../route/target.js'
import { checkAuth, type AuthScheme } from '../route/auth.js'
import type { NoRouteAnswer } from '../route/noroute.js'
import { canQueue, canTake, selectBackend } from '../balance/pool.js'
import type { Upstream, ServiceRuntime } from './upstream.js'
import { observeConnect, observeStatus, releaseSlot } from './upstream.js'
import type { ResponseHandler } from './engine.js'
import {
  buildUpstreamHeaders,
  filterResponseHeaders,
  clientAddress,
  acceptRequestId,
  newRequestId,
  findHeader,
  joinHeader,
  hostProblem,
  validHost,
  forwardedProto,
} from './headers.js'
import { normalizePath } from '../route/normalize.js'
import type { ForwardContext } from './headers.js'
import type { CidrSet } from '../net/cidr.js'
import type { Logger } from '../log.js'
import type { ConnectionBudget } from './listeners.js'
import {
  type EdgeError,
  errorInfo,
  NoBackendError,
  NoRouteError,
  UpstreamConnectError,
  UpstreamProtocolError,
  UpstreamResetError,
  UpstreamTimeoutError,
  ClientAbortError,
  AccessDeniedError,
  BadRequestError,
  UnauthorizedError,
} from '../errors.js'

/** What a worker swaps whole on every snapshot: each request reads it once. */
export interface ProxyState {
  readonly table: RouteTable
  readonly services: ReadonlyMap<string, ServiceRuntime>
  readonly version: number
}

/** Shared by every HTTP listener of a process. */
export interface ProxyContext {
  state: ProxyState
  readonly trustedProxies: CidrSet
  /** Lower-case request-id header name, '' = off. */
  readonly requestIdHeader: string
  /** `http.auth` schemes by name (routes with `auth`). */
  auth: ReadonlyMap<string, AuthScheme>
  /** The answer when no route matches (`http.no_route`; the page may come from Consul KV). */
  noRoute: NoRouteAnswer
  /** The access log formats fabio's `$field` templates: log lines carry the extra fields it reads (log.ts). */
  readonly accessDetail: boolean
  /** `http.client_ip_header` as configured and in lower case ('' = off), and `http.local_ip` ('' = none). */
  readonly clientIpHeader: string
  readonly clientIpLower: string
  readonly forwardedBy: string
  readonly accessLog: Logger
  readonly log: Logger
  readonly rand: () => number
  readonly now: () => number
  /** Open client connections over all HTTP listeners (`http.maxconn`). */
  readonly connections: ConnectionBudget
  readonly metrics: Metrics
}

/** Per-listener facts the headers need. */
export interface ListenerInfo {
  readonly name: string
  readonly proto: 'http' | 'https'
  port: number
}

export class LbResponse extends ServerResponse<IncomingMessage> {
  exchange: Exchange | null
  constructor(req: IncomingMessage) {
    super(req)
    this.exchange = null
  }
}

const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'TRACE'])
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : ''
}

function hasBody(req: IncomingMessage): boolean {
  const h = req.headers
  if (h['transfer-encoding'] !== undefined) return true
  const cl = h['content-length']
  if (cl !== undefined) return cl !== '0'
  return false
}

/**
 * Absolute-form request target (RFC 9112 §3.2.2): scheme, authority (no userinfo: '@' fails `validHost`), the
 * rest. Only requests in this form pay for the regular expression.
 */
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)(.*)$/is

/**
 * The path sent upstream: the client's own target unless the route rewrites it. A rewrite (strip/prepend)
 * starts from the normal form the route matched (`normalizePath`), so `/api/../../etc` cannot climb out of a
 * prepended prefix; the query is kept as sent.
 */
export function upstreamPath(url: string, route: Route): string {
  if (route.strip === '' && route.prependPath === '') return url
  const match = normalizePath(url)
  if (match === url) return rewritePath(url, route)
  const q = url.indexOf('?')
  return rewritePath(q < 0 ? match : match + url.slice(q), route)
}

/** Upstream path: strip the route's prefix (keeping a leading '/'), then prepend. The query is kept. */
export function rewritePath(url: string, route: Route): string {
  let path = url
  if (route.strip !== '' && path.startsWith(route.strip)) {
    path = path.slice(route.strip.length)
    // '' , '?q' and 'x' all need the leading '/' back.
    if (path.charCodeAt(0) !== 47 /* / */) path = '/' + path
  }
  return route.prependPath === '' ? path : route.prependPath + path
}

/**
 * Who is asking, for requests and tunnels alike: sets `clientIp` (the real client, dotted even for ::ffff:
 * peers; X-Forwarded-For counts only from trusted peers) and `requestId` (the client's when acceptable, else a
 * new one; '' when off). Returns whether the peer itself is a trusted proxy.
 */
export function identifyClient(
  ctx: ProxyContext,
  req: IncomingMessage,
  into: { clientIp: string; requestId: string },
): boolean {
  const remote = req.socket.remoteAddress ?? ''
  const trusted = ctx.trustedProxies.has(remote)
  into.clientIp = clientAddress(
    remote,
    trusted ? joinHeader(req.rawHeaders, 'x-forwarded-for') : undefined,
    ctx.trustedProxies,
  )
  if (ctx.requestIdHeader !== '') {
    const given = findHeader(req.rawHeaders, ctx.requestIdHeader)
    into.requestId = given !== undefined && acceptRequestId(given) ? given : newRequestId()
  }
  return trusted
}

export class Exchange implements ResponseHandler {
  readonly ctx: ProxyContext
  readonly listener: ListenerInfo
  readonly req: IncomingMessage
  readonly res: LbResponse
  route: Route | null
  service: ServiceRuntime | null
  upstream: Upstream | null
  /** Server of the previous failed attempt (retries go elsewhere when possible). */
  avoid: Upstream | null
  path: string
  headers: string[]
  /** Per-target rewrites (ServerSpec.target): the route-matched target, its authority and the header context. */
  url: string
  authority: string
  fwd: ForwardContext | null
  /** The request target sent to the last server ('' = none). */
  sentPath: string
  body: IncomingMessage | null
  idempotent: boolean
  attempts: number
  requestId: string
  clientIp: string
  tStart: number
  tDispatch: number
  tConnect: number
  tHeaders: number
  status: number
  /** Bytes read from the client connection since the previous request on it ended (headers and body). */
  bytesIn: number
  bytesOut: number
  /** haproxy-style two-character termination state: who ended it / in which phase. */
  termination: string
  reason: string
  abortUpstream: ((err?: Error) => void) | null
  resumeUpstream: (() => void) | null
  released: boolean
  logged: boolean
  /** Waiting in the service queue for a server below maxconn. */
  queued: boolean
  queueTimer: ReturnType<typeof setTimeout> | null
  /** ms spent queued (haproxy Tw). */
  tWait: number

  constructor(ctx: ProxyContext, listener: ListenerInfo, req: IncomingMessage, res: LbResponse) {
    this.ctx = ctx
    this.listener = listener
    this.req = req
    this.res = res
    this.route = null
    this.service = null
    this.upstream = null
    this.avoid = null
    this.path = ''
    this.headers = []
    this.url = ''
    this.authority = ''
    this.fwd = null
    this.sentPath = ''
    this.body = null
    this.idempotent = false
    this.attempts = 0
    this.requestId = ''
    this.clientIp = ''
    this.tStart = ctx.now()
    this.tDispatch = -1
    this.tConnect = -1
    this.tHeaders = -1
    this.status = 0
    this.bytesIn = 0
    this.bytesOut = 0
    this.termination = '--'
    this.reason = ''
    this.abortUpstream = null
    this.resumeUpstream = null
    this.released = false
    this.logged = false
    this.queued = false
    this.queueTimer = null
    this.tWait = 0
  }

  /** Entry point for one request. */
  start(): void {
    const ctx = this.ctx
    const req = this.req
    const state = ctx.state
    const remote = req.socket.remoteAddress ?? ''
    const trusted = identifyClient(ctx, req, this)
    let url = req.url ?? '/'
    let host = req.headers.host
    // The Host lb routes on is the one the upstream sees: exactly one, well-formed (RFC 9112 §3.2).
    const problem = hostProblem(req.rawHeaders)
    if (problem !== '') {
      this.fail(new BadRequestError(problem), 'PR')
      return
    }
    // Absolute-form (`GET http://h/p`): route by the target's authority, send origin-form and that Host upstream.
    let authority = ''
    if (url.charCodeAt(0) !== 47 /* / */) {
      const m = ABSOLUTE_FORM.exec(url)
      authority = m === null ? '' : (m[1] as string)
      if (m === null || authority === '' || !validHost(authority) || url.includes('#')) {
        this.fail(new BadRequestError('request target must be origin-form or absolute-form'), 'PR')
        return
      }
      const rest = m[2] as string
      url = rest === '' || rest.charCodeAt(0) === 63 /* ? */ ? '/' + rest : rest
      host = authority
    } else if (url.includes('#')) {
      this.fail(new BadRequestError('fragment in request target'), 'PR')
      return
    }
    const route = lookupHttp(
      state.table,
      host,
      url,
      this.listener.proto === 'https',
      trusted ? forwardedProto(req.rawHeaders) : '',
    )
    if (route === undefined) {
      this.fail(new NoRouteError(host ?? '', url), 'PR')
      return
    }
    this.route = route
    if ((route.allow !== null || route.deny !== null) && !routeAllows(route, this.clientIp)) {
      this.fail(new AccessDeniedError(this.clientIp), 'PR')
      return
    }
    if (route.auth !== '') {
      const scheme = ctx.auth.get(route.auth)
      if (!checkAuth(scheme, findHeader(req.rawHeaders, 'authorization'))) {
        this.fail(new UnauthorizedError(route.auth, scheme?.challenge ?? ''), 'PR')
        return
      }
    }
    if (route.redirect !== null) {
      this.redirect(route, url, host ?? '')
      return
    }
    const service = state.services.get(route.service)
    if (service === undefined) {
      this.fail(new NoBackendError(route.service), 'SC')
      return
    }
    this.service = service
    this.path = upstreamPath(url, route)
    const fwd: ForwardContext = {
      remoteAddress: remote,
      clientAddress: this.clientIp,
      trusted,
      proto: this.listener.proto,
      localPort: this.listener.port,
      httpVersion: req.httpVersion,
      websocket: false,
      clientIpHeader: ctx.clientIpHeader,
      clientIpLower: ctx.clientIpLower,
      forwardedBy: ctx.forwardedBy,
      hostHeader: route.hostHeader === 'dst' ? '' : route.hostHeader === '' ? authority : route.hostHeader,
      prefix: route.strip,
      requestIdHeader: ctx.requestIdHeader,
      requestId: this.requestId,
    }
    this.headers = buildUpstreamHeaders(req.rawHeaders, fwd)
    this.url = url
    this.authority = authority
    this.fwd = fwd
    const body = hasBody(req) || !NO_BODY_METHODS.has(req.method ?? '') ? req : null
    this.body = body
    this.idempotent = body === null && IDEMPOTENT.has(req.method ?? '')
    this.attempt()
  }

  /** Pick a server and dispatch; called again for each retry. */
  attempt(): void {
    const service = this.service
    if (service === null) return
    const up = selectBackend(service.pool, this.ctx.rand, this.avoid) as Upstream | undefined
    if (up === undefined) {
      if (this.enqueue(service)) return
      this.fail(new NoBackendError(service.spec.name), 'SC')
      return
    }
    this.attempts++
    let path = this.path
    let headers = this.headers
    this.sentPath = path
    const target = up.spec.target
    const fwd = this.fwd
    if (target !== undefined && fwd !== null) {
      // This server has its own strip/prepend/host/query (fabio keeps options per target): rewrite for it.
      path = targetPath(this.url, target.strip, target.prepend, target.query ?? '')
      this.sentPath = path
      const hostHeader = fwd.hostHeader
      const prefix = fwd.prefix
      fwd.hostHeader = targetHostHeader(target.hostHeader, this.authority)
      fwd.prefix = target.strip
      headers = buildUpstreamHeaders(this.req.rawHeaders, fwd)
      fwd.hostHeader = hostHeader
      fwd.prefix = prefix
      if (target.hostHeader === 'dst') setHost(headers, up.hostPort)
    } else if (this.route !== null && this.route.hostHeader === 'dst') setHost(this.headers, up.hostPort)
    const dispatcher = up.ensureDispatcher()
    if (dispatcher === null) {
      this.avoid = up
      this.upstream = up
      this.ctx.metrics.connectError(up, 'resolve')
      this.retryOrFail(new UpstreamConnectError(up.label, new Error(up.downReason || 'no address')))
      return
    }
    this.upstream = up
    this.released = false
    up.inflight++
    this.tDispatch = this.ctx.now()
    this.tConnect = -1
    const spec = service.spec
    dispatcher.dispatch(
      {
        method: this.req.method ?? 'GET',
        path,
        headers,
        body: this.body,
        headersTimeout: spec.timeouts.server,
        bodyTimeout: spec.timeouts.body,
        idempotent: this.idempotent,
        // send_proxy: the PROXY header names the real client and the address it connected to.
        proxy:
          (spec.sendProxy ?? 'none') === 'none'
            ? null
            : {
                srcAddress: this.clientIp,
                srcPort: this.req.socket.remotePort ?? 0,
                dstAddress: this.req.socket.localAddress ?? '',
                dstPort: this.req.socket.localPort ?? 0,
              },
      },
      this,
    )
  }

  /** Every usable server is at maxconn: wait in the service queue (haproxy `maxconn` queueing). */
  enqueue(service: ServiceRuntime): boolean {
    if (this.queued || !canQueue(service.pool) || !service.queue.push(this)) return false
    this.queued = true
    this.tWait = this.ctx.now()
    this.queueTimer = setTimeout(onQueueTimeout, service.queueTimeout, this)
    return true
  }

  /** The queue offers a free slot (Waiter): take it if a server is really available. */
  retryFromQueue(): boolean {
    const service = this.service
    if (service !== null && !this.res.destroyed && !canTake(service.pool)) return false
    this.leaveQueue()
    if (!this.res.destroyed) this.attempt()
    return true
  }

  leaveQueue(): void {
    if (!this.queued) return
    this.queued = false
    this.tWait = this.ctx.now() - this.tWait
    if (this.queueTimer !== null) clearTimeout(this.queueTimer)
    this.queueTimer = null
    this.service?.queue.remove(this)
  }

  release(): void {
    if (!this.released && this.upstream !== null) {
      this.released = true
      releaseSlot(this.upstream)
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    this.tConnect = this.ctx.now()
    if (this.upstream !== null) observeConnect(this.upstream, true)
    this.abortUpstream = abort
    if (this.res.destroyed) abort(new ClientAbortError())
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true // informational responses are not relayed
    const res = this.res
    if (this.upstream !== null) observeStatus(this.upstream, status)
    this.tHeaders = this.ctx.now()
    this.status = status
    this.resumeUpstream = resume
    if (res.destroyed) {
      this.abortUpstream?.(new ClientAbortError())
      return false
    }
    const headers = filterResponseHeaders(rawHeaders)
    if (this.requestId !== '') headers.push(this.ctx.requestIdHeader, this.requestId)
    res.on('drain', onResponseDrain)
    res.writeHead(status, statusText, headers)
    return true
  }

  onData(chunk: Buffer): boolean {
    this.bytesOut += chunk.length
    return this.res.write(chunk)
  }

  onComplete(trailers: Buffer[] | null): void {
    this.release()
    const res = this.res
    if (trailers !== null && trailers.length > 0) res.addTrailers(pairs(filterResponseHeaders(trailers)))
    res.end()
  }

  onError(err: Error): void {
    this.release()
    const code = errorCode(err)
    const up = this.upstream
    const label = up === null ? '-' : up.label
    if (this.res.destroyed || err instanceof ClientAbortError) {
      // The client went away first; res 'close' already logged or will log it.
      if (this.termination === '--') this.termination = this.tHeaders < 0 ? 'CH' : 'CD'
      return
    }
    if (this.tHeaders >= 0) {
      // Response already started: all we can do is cut the client connection.
      this.reason = `${code || err.name}: ${err.message}`
      this.termination = code === 'UND_ERR_BODY_TIMEOUT' ? 'sD' : 'SD'
      this.res.destroy(err)
      return
    }
    if (code === 'UND_ERR_HEADERS_TIMEOUT') {
      if (up !== null) observeStatus(up, 0)
      this.fail(new UpstreamTimeoutError(label, 'headers', err), 'sH')
      return
    }
    const sentNothing = this.tConnect < 0
    if (sentNothing && up !== null) {
      observeConnect(up, false)
      this.ctx.metrics.connectError(up, connectReason(code))
    }
    // Reset or closed before any response byte (a kept-alive connection the server was closing): safe to replay
    // only without a body and for an idempotent method.
    const replayable =
      this.idempotent && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE')
    if (sentNothing || replayable) {
      this.avoid = up
      const e =
        code === 'UND_ERR_CONNECT_TIMEOUT'
          ? new UpstreamTimeoutError(label, 'connect', err)
          : sentNothing
            ? new UpstreamConnectError(label, err)
            : new UpstreamResetError(label, err)
      this.retryOrFail(e)
      return
    }
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') {
      this.fail(new UpstreamResetError(label, err), 'SH')
      return
    }
    this.fail(new UpstreamProtocolError(label, err), 'SH')
  }

  retryOrFail(err: EdgeError): void {
    const service = this.service
    if (service !== null && this.attempts <= service.spec.retries && !this.res.destroyed) {
      this.reason = err.message
      this.attempt()
      return
    }
    this.fail(err, err.code === 'EDGE_UPSTREAM_TIMEOUT' ? 'sC' : 'SC')
  }

  /** Answer locally with an error status and a short text body. */
  fail(err: EdgeError, termination: string): void {
    this.reason = err.message
    this.termination = termination
    if (err.code === 'EDGE_NO_ROUTE' && this.ctx.noRoute.html !== '') {
      this.respond(this.ctx.noRoute.status, this.ctx.noRoute.html, null, 'text/html; charset=utf-8')
      return
    }
    const status = err.code === 'EDGE_NO_ROUTE' ? this.ctx.noRoute.status : errorInfo[err.code].status
    const challenge = err instanceof UnauthorizedError && err.challenge !== '' ? err.challenge : null
    this.respond(status, err.message + '\n', null, 'text/plain; charset=utf-8', challenge)
  }

  redirect(route: Route, url: string, host: string): void {
    const r = route.redirect
    if (r === null) return
    this.termination = 'LR'
    this.respond(r.code, '', redirectLocation(route, url, host))
  }

  respond(
    status: number,
    body: string,
    location: string | null,
    contentType = 'text/plain; charset=utf-8',
    challenge: string | null = null,
  ): void {
    const res = this.res
    this.status = status
    if (res.headersSent || res.destroyed) {
      res.destroy()
      return
    }
    const headers: string[] = [
      'content-type',
      contentType,
      'content-length',
      String(Buffer.byteLength(body)),
      'x-content-type-options',
      'nosniff',
    ]
    if (location !== null) headers.push('location', location)
    if (challenge !== null) headers.push('www-authenticate', challenge)
    // After a request lb could not make sense of, bytes that follow on the connection are not trusted either.
    if (status === 400) headers.push('connection', 'close')
    if (this.requestId !== '') headers.push(this.ctx.requestIdHeader, this.requestId)
    this.bytesOut = Buffer.byteLength(body)
    res.writeHead(status, headers)
    res.end(body)
  }

  /** The access-log line (haproxy timing fields; -1 = phase not reached). */
  log(): void {
    if (this.logged) return
    this.logged = true
    const now = this.ctx.now()
    const route = this.route
    const up = this.upstream
    const Tc = this.tConnect >= 0 && this.tDispatch >= 0 ? Math.round(this.tConnect - this.tDispatch) : -1
    const Tr = this.tHeaders >= 0 && this.tConnect >= 0 ? Math.round(this.tHeaders - this.tConnect) : -1
    const req = this.req
    // Node clears req.socket once a destroyed response is detached.
    const socket = req.socket as IncomingMessage['socket'] | null
    if (socket !== null) {
      const read = socket.bytesRead
      this.bytesIn = read - (lastRead.get(socket) ?? 0)
      lastRead.set(socket, read)
    }
    this.ctx.metrics.observeHttp(this, now)
    const line = {
      ci: this.clientIp,
      fe: this.listener.name,
      method: req.method,
      host: req.headers.host,
      uri: req.url,
      status: this.status,
      bytes: this.bytesOut,
      route: route === null ? null : route.host + route.path,
      service: route === null ? null : route.service,
      server: up === null ? null : up.name,
      retries: this.attempts > 0 ? this.attempts - 1 : 0,
      Tw: Math.round(this.tWait),
      Tc,
      Tr,
      Ta: Math.round(now - this.tStart),
      ts: this.termination,
      reason: this.reason === '' ? undefined : this.reason,
      rid: this.requestId === '' ? undefined : this.requestId,
    }
    this.ctx.accessLog.info(this.ctx.accessDetail ? withDetail(line, this) : line)
  }
}

/**
 * The fields a `$field` access-log template reads beyond the JSON line (src/log.ts `accessRecord`): socket peer
 * address and port, HTTP version, request headers, scheme, and the server address, scheme and target.
 */
function withDetail(line: Record<string, unknown>, ex: Exchange): Record<string, unknown> {
  const socket = ex.req.socket as IncomingMessage['socket'] | null
  const up = ex.upstream
  line.ra = socket?.remoteAddress ?? ''
  line.cp = socket?.remotePort ?? 0
  line.hv = ex.req.httpVersion
  line.rh = ex.req.rawHeaders
  line.sc = ex.listener.proto
  line.ua = up === null ? '' : up.hostPort
  line.us = ex.service?.spec.proto ?? 'http'
  line.uu = ex.sentPath
  return line
}

/** Client socket → its `bytesRead` when its previous request was logged (for `Exchange.bytesIn`). */
const lastRead = new WeakMap<object, number>()

function setHost(headers: string[], value: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]
    if (name !== undefined && name.length === 4 && name.toLowerCase() === 'host') {
      headers[i + 1] = value
      return
    }
  }
  headers.push('host', value)
}

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string])
  return out
}

function onResponseDrain(this: LbResponse): void {
  this.exchange?.resumeUpstream?.()
}

function onQueueTimeout(ex: Exchange): void {
  ex.queueTimer = null
  if (!ex.queued) return
  ex.leaveQueue()
  const name = ex.service === null ? '' : ex.service.spec.name
  ex.fail(new NoBackendError(name), 'sQ')
}

function onResponseClose(this: LbResponse): void {
  const ex = this.exchange
  if (ex === null) return
  ex.leaveQueue()
  if (!this.writableFinished) {
    // Client gone before the response completed: abort upstream so the connection is not reused.
    if (ex.termination === '--') ex.termination = ex.tHeaders < 0 ? 'CH' : 'CD'
    if (ex.abortUpstream !== null) ex.abortUpstream(new ClientAbortError())
    ex.release()
  }
  ex.log()
  this.exchange = null
}

/** The `request` listener of an HTTP listener. */
export function handleRequest(
  ctx: ProxyContext,
  listener: ListenerInfo,
  req: IncomingMessage,
  res: LbResponse,
): void {
  const ex = new Exchange(ctx, listener, req, res)
  res.exchange = ex
  res.on('close', onResponseClose)
  ex.start()
}
