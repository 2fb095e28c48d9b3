/**
 * One HTTP request through lb: the request path decides (request-path.ts), a pooled connection carries it
 * (h1/upstream-conn.ts), and the response streams back to the client side (client-side.ts), which writes it in
 * the client's protocol (h1/client-conn.ts for HTTP/1.1): the exchange never writes client-side text itself.
 *
 * Each client connection owns one Exchange and reuses it for every request, one request at a time, so a request
 * allocates no exchange, timer or closure. The exchange:
 * - answers locally what the request path refuses (400, 403, 404, 503, redirects);
 * - picks a server, waits in the service queue when every server is at maxconn (`timeouts.queue`, 503 `sQ`),
 *   and in the server's pool when its connections are all busy (the same bound);
 * - writes the request head it builds itself (method, upstream path, rewritten headers, its own framing) and
 *   streams the body (Content-Length as is, chunked re-framed), holding the client socket while the server side
 *   cannot take more;
 * - streams the response (its framing decided here: a known length, an unknown one, up to the server's close;
 *   the client side frames it), pausing the server side while the client does not read;
 * - on failure asks the request path whether to retry (redispatching to another server when there is one) and
 *   what to answer (503/502/504 with haproxy's termination states), or cuts the client connection once the
 *   response has started;
 * - turns into a Tunnel on a `101 Switching Protocols` to an Upgrade request (and only then).
 *
 * A client going away cancels the exchange's upstream work at once: its queue places, its pool wait, and its
 * connection (closed, since the response was not read to its end).
 *
 * Why one file of about 900 lines: the Exchange is one state machine whose methods are the callbacks of the
 * client connection, the pool, the deadlines, the queue and gzip (PoolUser, Waiter, DeadlineOwner, GzipUser).
 * What does not read or change its state lives elsewhere: the decisions in request-path.ts, header rewriting in
 * headers.ts, the access line in access-line.ts, compression in gzip.ts.
 */
import type { ResponseHead, RequestHead } from '../net/h1/parse.js'
import type { ConnPool, PoolUser } from './h1/pool.js'
import type { UpstreamConn } from './h1/upstream-conn.js'
import type { ClientSide } from './client-side.js'
import type { ListenerInfo, ProxyContext } from './context.js'
import type { Route } from '../route/table.js'
import type { ServiceRuntime, Upstream } from './upstream.js'
import { observeConnect, observeStatus, releaseSlot } from './upstream.js'
import { buildUpstreamHeaders, filterResponseHeaders, type ForwardContext } from './headers.js'
import { clientCertInto } from './client-cert.js'
import { targetHostHeader, targetPath } from '../route/target.js'
import { Deadline, type DeadlineOwner } from './timers.js'
import { canTake } from '../balance/pool.js'
import {
  canWait,
  failures,
  identifyClient,
  idempotentMethod,
  mayRetry,
  pickServer,
  routeRequest,
  type FailureKind,
} from './request-path.js'
import { gzipHeaders, shouldGzip, startGzip, type GzipUser } from './gzip.js'
import { jsonPrefix, logExchange } from './access-line.js'
import type { Gzip } from 'node:zlib'
import type { Waiter } from './queue.js'

/** Body bytes buffered while the server connection is not ready, before the client socket is held. */
const PENDING_LIMIT = 64 * 1024

// Deadline kinds: waiting in the service queue, or for a connection of a full pool.
const Q_SERVICE = 1
const Q_POOL = 2

const CRLF = '\r\n'
const TEXT = 'text/plain; charset=utf-8'
const HTML = 'text/html; charset=utf-8'
const LAST_CHUNK = '0\r\n'

export class Exchange implements PoolUser, Waiter, DeadlineOwner, GzipUser {
  readonly ctx: ProxyContext
  readonly listener: ListenerInfo
  /** Where the response goes: an HTTP/1.1 connection (h1/client-conn.ts) or an HTTP/2 stream (h2/stream.ts). */
  readonly conn: ClientSide
  /** A request is in progress (from `begin` to its log line). */
  active: boolean
  head: RequestHead | null
  method: string
  // The request path's decision (RouteDecision).
  route: Route | null
  service: ServiceRuntime | null
  host: string
  authority: string
  url: string
  path: string
  location: string
  reason: string
  termination: string
  challenge: string
  page: string
  // Who asked (ClientIdentity), and how (Arrival).
  clientIp: string
  requestId: string
  trusted: boolean
  readonly tls: boolean
  /** What the upstream headers are built from; one object per client connection, refilled per request. */
  readonly fwd: ForwardContext
  /** The request target sent to the current server (per-target rewrites may differ from `path`). */
  sentPath: string
  // The attempt in progress.
  upstream: Upstream | null
  /** The server of the previous attempt: the next one avoids it when it can. */
  avoid: Upstream | null
  /** A retry went to another server than the attempt before it (haproxy's `+` on the retries count). */
  redispatched: boolean
  attempts: number
  /** `upstream.inflight` counts this exchange. */
  counted: boolean
  upConn: UpstreamConn | null
  /** The pool this exchange waits on for a connection (null when not waiting). */
  waitingPool: ConnPool | null
  /** In the service queue. */
  queued: boolean
  /** Upstream request headers (flat), built once per request. */
  headers: string[]
  /** The headers sent to the current server (`headers`, or rewritten for a server with options of its own). */
  sentHeaders: string[]
  /** The request has no Host: the chosen server's `host:port` is sent. */
  needsHost: boolean
  upgrade: boolean
  // The request body.
  hasBody: boolean
  chunked: boolean
  /** Idempotent method and no body: may be replayed after a keep-alive race. */
  replayable: boolean
  /** Every body byte has been read from the client. */
  bodyRead: boolean
  /** Body bytes read before the server connection was ready. */
  pending: Buffer[] | null
  pendingBytes: number
  trailers: string
  // The response.
  status: number
  /** The response head went to the client: a failure now can only cut the connection. */
  responded: boolean
  /** The response body is being compressed (gzip.ts); null when it passes as it is. */
  gz: Gzip | null
  bytesIn: number
  bytesOut: number
  tStart: number
  tDispatch: number
  tConnect: number
  tHeaders: number
  tWait: number
  readonly deadline: Deadline
  /** `,"fe":"<listener>","method":` for the JSON access line. */
  readonly jsonFe: string

  constructor(ctx: ProxyContext, listener: ListenerInfo, conn: ClientSide) {
    this.ctx = ctx
    this.listener = listener
    this.conn = conn
    this.active = false
    this.head = null
    this.method = ''
    this.route = null
    this.service = null
    this.host = ''
    this.authority = ''
    this.url = ''
    this.path = ''
    this.location = ''
    this.reason = ''
    this.termination = '--'
    this.challenge = ''
    this.page = ''
    this.clientIp = ''
    this.requestId = ''
    this.trusted = false
    this.tls = listener.proto === 'https'
    this.fwd = {
      remoteAddress: conn.remote,
      clientAddress: '',
      trusted: false,
      proto: listener.proto,
      localPort: listener.port,
      httpVersion: '1.1',
      websocket: false,
      clientIpHeader: ctx.clientIpHeader,
      clientIpLower: ctx.clientIpLower,
      forwardedBy: ctx.forwardedBy,
      hostHeader: '',
      prefix: '',
      requestIdHeader: ctx.requestIdHeader,
      requestId: '',
      certHeaders: ctx.certHeaders,
      certHeader: '',
      certValue: '',
    }
    clientCertInto(this.fwd, conn.socket)
    this.sentPath = ''
    this.upstream = null
    this.avoid = null
    this.redispatched = false
    this.attempts = 0
    this.counted = false
    this.upConn = null
    this.waitingPool = null
    this.queued = false
    this.headers = []
    this.sentHeaders = this.headers
    this.needsHost = false
    this.upgrade = false
    this.hasBody = false
    this.chunked = false
    this.replayable = false
    this.bodyRead = false
    this.pending = null
    this.pendingBytes = 0
    this.trailers = ''
    this.status = 0
    this.responded = false
    this.gz = null
    this.bytesIn = 0
    this.bytesOut = 0
    this.tStart = 0
    this.tDispatch = -1
    this.tConnect = -1
    this.tHeaders = -1
    this.tWait = 0
    this.deadline = new Deadline(this)
    this.jsonFe = jsonPrefix(listener.name)
  }

  /** A new request, its head parsed. Its body (if any) follows through `requestBody`. */
  begin(head: RequestHead): void {
    const ctx = this.ctx
    this.active = true
    this.head = head
    this.method = head.method
    this.upstream = null
    this.avoid = null
    this.redispatched = false
    this.attempts = 0
    this.counted = false
    this.upConn = null
    this.waitingPool = null
    this.queued = false
    this.status = 0
    this.responded = false
    this.bytesIn = 0
    this.bytesOut = 0
    this.tStart = ctx.now()
    this.tDispatch = -1
    this.tConnect = -1
    this.tHeaders = -1
    this.tWait = 0
    this.reason = ''
    this.termination = '--'
    this.pending = null
    this.pendingBytes = 0
    this.trailers = ''
    this.chunked = head.chunked
    this.hasBody = head.chunked || head.contentLength > 0
    this.bodyRead = !this.hasBody
    const conn = this.conn
    this.trusted = identifyClient(ctx, conn.remote, head.headers, this)
    // `Upgrade: h2c` is never tunnelled: the request goes on as a plain one, Upgrade dropped (as nginx does).
    this.upgrade = head.connectionUpgrade && head.upgrade !== '' && !isH2c(head.upgrade)
    const status = routeRequest(ctx, head, this, this.clientIp, this)
    if (status !== 0) {
      if (this.termination === 'LR') this.respond(status, '', this.location)
      else if (this.page !== '') this.respond(status, this.page, null, HTML)
      else this.respond(status, this.reason + '\n', null)
      return
    }
    const route = this.route as Route
    const fwd = this.fwd
    fwd.remoteAddress = conn.remote
    fwd.clientAddress = this.clientIp
    fwd.trusted = this.trusted
    fwd.localPort = this.listener.port
    fwd.httpVersion = head.h2 ? '2.0' : head.minor === 0 ? '1.0' : '1.1'
    fwd.websocket = this.upgrade && head.upgrade.toLowerCase() === 'websocket'
    fwd.hostHeader =
      route.hostHeader === 'dst' ? '' : route.hostHeader === '' ? this.authority : route.hostHeader
    fwd.prefix = route.strip
    fwd.requestId = this.requestId
    this.headers = buildUpstreamHeaders(head.headers, fwd)
    this.needsHost = route.hostHeader === 'dst' || (head.hostCount === 0 && fwd.hostHeader === '')
    this.replayable = !this.hasBody && idempotentMethod(head.method)
    if (head.expectContinue && this.hasBody) this.conn.sendContinue()
    this.attempt()
  }

  /** Pick a server and get a connection to it; called again for each retry. */
  attempt(): void {
    const service = this.service as ServiceRuntime
    const up = pickServer(service, this.ctx.rand, this.avoid)
    if (up === undefined) {
      if (!this.queued && canWait(service) && service.queue.push(this)) {
        this.queued = true
        this.tWait = this.ctx.now()
        this.ctx.deadlines.arm(this.deadline, service.queueTimeout, Q_SERVICE)
        return
      }
      this.fail('no_server', `no server available for service "${service.spec.name}"`)
      return
    }
    if (this.upstream !== null && up !== this.upstream) this.redispatched = true
    this.attempts++
    this.upstream = up
    const pool = up.ensurePool()
    if (pool === null) {
      this.ctx.metrics.connectError(up, 'resolve')
      this.avoid = up
      this.retryOrFail('connect_error', up.downReason || `cannot resolve ${up.host}`)
      return
    }
    up.inflight++
    this.counted = true
    this.tDispatch = this.ctx.now()
    this.tConnect = -1
    const conn = pool.acquire(this, this.proxyAddresses(), this.upgrade)
    if (conn === null) {
      this.waitingPool = pool
      this.tWait = this.ctx.now()
      this.ctx.deadlines.arm(this.deadline, service.queueTimeout, Q_POOL)
      return
    }
    this.upConn = conn
    if (!conn.connecting) this.onConnection(conn)
  }

  /** send_proxy: the PROXY header names the real client and the address it connected to. */
  proxyAddresses(): { srcAddress: string; srcPort: number; dstAddress: string; dstPort: number } | null {
    const spec = (this.service as ServiceRuntime).spec
    if ((spec.sendProxy ?? 'none') === 'none') return null
    const c = this.conn
    return {
      srcAddress: this.clientIp,
      srcPort: c.remotePort,
      dstAddress: c.localAddress,
      dstPort: c.localPort,
    }
  }

  // -- Waiter (service queue) ------------------------------------------------------------------------------

  retryFromQueue(): boolean {
    const service = this.service
    if (!this.active || service === null) return true
    if (!canTake(service.pool)) return false
    this.leaveQueue()
    this.attempt()
    return true
  }

  leaveQueue(): void {
    if (!this.queued) return
    this.queued = false
    this.tWait = this.ctx.now() - this.tWait
    this.ctx.deadlines.disarm(this.deadline)
    this.service?.queue.remove(this)
  }

  onDeadline(kind: number): void {
    if (!this.active) return
    if (kind === Q_SERVICE) {
      if (!this.queued) return
      this.leaveQueue()
    } else {
      const pool = this.waitingPool
      if (pool === null) return
      pool.cancel(this)
      this.waitingPool = null
      this.tWait = this.ctx.now() - this.tWait
      this.release()
    }
    const name = this.service === null ? '' : this.service.spec.name
    this.fail('queue_timeout', `no server available for service "${name}" (queue timeout)`)
  }

  // -- PoolUser --------------------------------------------------------------------------------------------

  onConnection(conn: UpstreamConn): void {
    if (this.waitingPool !== null) {
      this.waitingPool = null
      this.tWait = this.ctx.now() - this.tWait
      this.ctx.deadlines.disarm(this.deadline)
    }
    this.upConn = conn
    this.tConnect = this.ctx.now()
    const up = this.upstream as Upstream
    observeConnect(up, true)
    conn.begin(this.method === 'HEAD', this.upgrade)
    this.forServer(up)
    const pending = this.pending
    let ok: boolean
    if (pending === null) {
      ok = conn.out.send(
        this.bodyRead && this.chunked
          ? this.requestHead() + LAST_CHUNK + this.trailers + CRLF
          : this.requestHead(),
        null,
        '',
      )
    } else {
      // Body bytes that arrived before the connection: after the head, through the socket's own writes (rare).
      const socket = conn.socket
      socket.cork()
      socket.write(this.requestHead(), 'latin1')
      for (let i = 0; i < pending.length; i++) {
        const data = pending[i] as Buffer
        if (this.chunked) socket.write(data.length.toString(16) + CRLF, 'latin1')
        socket.write(data)
        if (this.chunked) socket.write(CRLF, 'latin1')
      }
      this.pending = null
      this.pendingBytes = 0
      if (this.bodyRead && this.chunked) socket.write(LAST_CHUNK + this.trailers + CRLF, 'latin1')
      socket.uncork()
      ok = !socket.writableNeedDrain
    }
    if (this.bodyRead) conn.sent((this.service as ServiceRuntime).spec.timeouts.server)
    else if (ok) this.conn.unhold()
    else this.conn.hold()
  }

  /**
   * The path and headers for `up`: the route's, or, for a server with options of its own (fabio keeps strip,
   * prepend, host and a query per target), rewritten for it. `sentPath`/`sentHeaders` hold the result.
   */
  forServer(up: Upstream): void {
    const target = up.spec.target
    if (target === undefined) {
      this.sentPath = this.path
      this.sentHeaders = this.headers
      if (this.needsHost) setHost(this.headers, up.hostPort)
      return
    }
    const fwd = this.fwd
    const hostHeader = fwd.hostHeader
    const prefix = fwd.prefix
    fwd.hostHeader = targetHostHeader(target.hostHeader, this.authority)
    fwd.prefix = target.strip
    this.sentHeaders = buildUpstreamHeaders((this.head as RequestHead).headers, fwd)
    fwd.hostHeader = hostHeader
    fwd.prefix = prefix
    this.sentPath = targetPath(this.url, target.strip, target.prepend, target.query ?? '')
    if (target.hostHeader === 'dst' || this.needsHost) setHost(this.sentHeaders, up.hostPort)
  }

  /** Request line + headers + lb's own framing headers. */
  requestHead(): string {
    let h = this.method + ' ' + this.sentPath + ' HTTP/1.1\r\n'
    const headers = this.sentHeaders
    for (let i = 0; i + 1 < headers.length; i += 2) h += headers[i] + ': ' + headers[i + 1] + CRLF
    if (this.chunked) h += 'Transfer-Encoding: chunked\r\n'
    if (this.upgrade) h += 'Connection: upgrade\r\nUpgrade: ' + (this.head as RequestHead).upgrade + CRLF
    return h + CRLF
  }

  /** Request body bytes (de-chunked) from the client. */
  requestBody(buf: Buffer, start: number, end: number): void {
    if (!this.active || this.responded || this.termination !== '--') return
    const data = buf.subarray(start, end)
    const conn = this.upConn
    if (conn !== null && !conn.connecting && this.pending === null) {
      const out = conn.out
      const ok = this.chunked ? out.send(data.length.toString(16) + CRLF, data, CRLF) : out.send('', data, '')
      if (!ok) this.conn.hold()
      // A write the kernel did not take at once keeps referring to the client's read buffer.
      if (out.lent) this.conn.lent = true
      return
    }
    // Kept until the server connection is ready: a copy when it is a view of the client's read buffer.
    const kept = this.conn.onread ? Buffer.from(data) : data
    if (this.pending === null) this.pending = [kept]
    else this.pending.push(kept)
    this.pendingBytes += data.length
    if (this.pendingBytes >= PENDING_LIMIT) this.conn.hold()
  }

  requestBodyEnd(trailers: string): void {
    this.bodyRead = true
    if (!this.active || this.responded || this.termination !== '--') return
    this.trailers = trailers
    const conn = this.upConn
    if (conn === null || conn.connecting || this.pending !== null) return
    if (this.chunked) conn.out.send(LAST_CHUNK + trailers + CRLF, null, '')
    conn.sent((this.service as ServiceRuntime).spec.timeouts.server)
  }

  onUpstreamDrain(): void {
    this.conn.unhold()
  }

  onResponseHead(resp: ResponseHead, conn: UpstreamConn, more: boolean): void {
    const up = this.upstream as Upstream
    this.tHeaders = this.ctx.now()
    this.status = resp.status
    observeStatus(up, resp.status)
    const head = this.head as RequestHead
    const noBody = this.method === 'HEAD' || resp.status === 204 || resp.status === 304
    const gzip = this.ctx.gzip
    const compress = gzip !== null && !noBody && shouldGzip(gzip, resp.headers, head.headers)
    // The body's framing for the client side: of unknown length (`te`), up to the server's close, or as sent.
    let te = ''
    let toClose = false
    if (compress) {
      te = 'chunked'
      this.gz = startGzip(this)
    } else if (!noBody) {
      if (resp.chunked) te = resp.transferEncoding
      else if (resp.contentLength < 0) toClose = true
    }
    const filtered = filterResponseHeaders(resp.headers)
    const headers = compress ? gzipHeaders(filtered) : filtered
    const hsts = this.tls ? (this.route as Route).hsts : ''
    this.responded = true
    if (!this.conn.sendHead(resp.status, resp.reason, headers, hsts, te, toClose, more && !compress)) {
      conn.pause()
      this.conn.awaitDrain()
    }
  }

  onResponseData(buf: Buffer, start: number, end: number): void {
    const data = start === 0 && end === buf.length ? buf : buf.subarray(start, end)
    const gz = this.gz
    if (gz !== null) {
      // zlib reads the bytes later, on its own thread: the server connection reads on into a fresh buffer.
      const conn = this.upConn
      if (conn !== null) conn.lent = true
      if (!gz.write(data)) conn?.pause()
      return
    }
    const client = this.conn
    this.bytesOut += end - start
    const ok = client.sendData(data)
    // A write the kernel did not take at once keeps referring to the server connection's read buffer.
    if (client.dataLent && this.upConn !== null) this.upConn.lent = true
    if (!ok) {
      this.upConn?.pause()
      client.awaitDrain()
    }
  }

  onClientDrain(): void {
    if (this.gz !== null) this.gz.resume()
    else this.upConn?.resume()
  }

  // -- GzipUser ----------------------------------------------------------------------------------------------

  onGzipData(chunk: Buffer): void {
    this.bytesOut += chunk.length
    if (!this.conn.sendData(chunk)) {
      this.gz?.pause()
      this.conn.awaitDrain()
    }
  }

  onGzipDrain(): void {
    this.upConn?.resume()
  }

  /** The compressed body is complete (the server's response ended before): the last chunk, then done. */
  onGzipEnd(): void {
    this.gz = null
    if (!this.conn.sendEnd('')) this.conn.awaitDrain()
    this.finish()
  }

  onGzipError(err: Error): void {
    this.gz = null
    this.termination = 'PD'
    this.reason = `gzip: ${err.message}`
    this.cancelUpstream()
    this.conn.destroy()
    this.finish()
  }

  onResponseEnd(trailers: string): void {
    const gz = this.gz
    if (gz !== null) {
      // All of the server's response is here: its connection is free; the exchange ends with zlib's output.
      const conn = this.upConn
      this.upConn = null
      this.release()
      if (conn !== null) conn.release(this.bodyRead && this.pending === null)
      gz.end()
      return
    }
    if (!this.conn.sendEnd(trailers)) this.conn.awaitDrain()
    const conn = this.upConn
    this.upConn = null
    this.release()
    // The request must have gone out whole for the connection to carry another one.
    if (conn !== null) conn.release(this.bodyRead && this.pending === null)
    this.finish()
  }

  onConnectFailure(kind: FailureKind, err: Error | null): void {
    this.upConn = null
    this.waitingPool = null
    const up = this.upstream
    this.release()
    if (up !== null) {
      observeConnect(up, false)
      const reason = failures[kind].connectReason
      if (reason !== null) this.ctx.metrics.connectError(up, reason)
    }
    this.avoid = up
    this.retryOrFail(kind, describe(kind, up, err))
  }

  onUpstreamFailure(kind: FailureKind, err: Error | null): void {
    const conn = this.upConn
    this.upConn = null
    const up = this.upstream
    this.release()
    if (kind === 'server_timeout' && up !== null) observeStatus(up, 0)
    if (this.responded) {
      // The response started: all lb can do is cut the client connection.
      const gz = this.gz
      this.gz = null
      if (gz !== null) gz.destroy()
      this.termination = failures[kind].termination === 'sD' ? 'sD' : 'SD'
      this.reason = describe(kind, up, err)
      this.conn.destroy()
      this.finish()
      return
    }
    const reused = conn !== null && conn.served > 0
    if (mayRetry(kind, reused, this.replayable) && this.canRetry()) {
      this.avoid = up
      this.reason = describe(kind, up, err)
      this.attempt()
      return
    }
    this.fail(kind, describe(kind, up, err))
  }

  onUpgraded(resp: ResponseHead, rest: Buffer | null): void {
    const up = this.upstream as Upstream
    const conn = this.upConn as UpstreamConn
    this.upConn = null
    this.tHeaders = this.ctx.now()
    this.status = 101
    if (!upgradeMatches((this.head as RequestHead).upgrade, resp.upgrade)) {
      conn.socket.destroy()
      this.release()
      this.fail('protocol', `invalid response from ${up.label}: 101 with another protocol than requested`)
      return
    }
    // The tunnel keeps the server slot (`counted`) until it closes.
    this.counted = false
    this.active = false
    this.conn.switchProtocols(
      this,
      resp.reason,
      filterResponseHeaders(resp.headers),
      resp.upgrade,
      conn.socket,
      rest,
    )
  }

  // -- Endings ---------------------------------------------------------------------------------------------

  canRetry(): boolean {
    const service = this.service
    return service !== null && this.attempts <= service.spec.retries && this.active
  }

  retryOrFail(kind: FailureKind, reason: string): void {
    if (this.canRetry() && mayRetry(kind, false, this.replayable)) {
      this.reason = reason
      this.attempt()
      return
    }
    this.fail(kind, reason)
  }

  fail(kind: FailureKind, reason: string): void {
    const f = failures[kind]
    this.termination = f.termination
    this.reason = reason
    this.respond(f.status, reason + '\n', null)
  }

  /** Free the server slot this exchange holds. */
  release(): void {
    if (this.counted && this.upstream !== null) {
      this.counted = false
      releaseSlot(this.upstream)
    }
  }

  /** Answer locally: an error text (or the no-route page), or a redirect. */
  respond(status: number, body: string, location: string | null, contentType = TEXT): void {
    this.status = status
    const client = this.conn
    if (this.responded) {
      client.destroy()
      this.finish()
      return
    }
    if (this.reason === '') this.reason = body.trimEnd()
    this.bytesOut = Buffer.byteLength(body)
    this.responded = true
    if (!client.sendLocal(status, body, contentType, location, this.challenge)) client.awaitDrain()
    this.finish()
  }

  /** The client went away (or stopped reading/sending for `timeouts.client`): cancel everything upstream. */
  clientGone(): void {
    if (!this.active) return
    if (this.termination === '--') this.termination = this.responded ? 'CD' : 'CH'
    this.cancelUpstream()
    this.finish()
  }

  clientTimeout(): void {
    if (!this.active) return
    if (this.termination === '--') this.termination = this.responded ? 'cD' : 'cH'
    this.reason = 'client timeout'
    this.cancelUpstream()
    this.finish()
  }

  cancelUpstream(): void {
    const gz = this.gz
    this.gz = null
    if (gz !== null) gz.destroy()
    this.leaveQueue()
    if (this.waitingPool !== null) {
      this.waitingPool.cancel(this)
      this.waitingPool = null
      this.ctx.deadlines.disarm(this.deadline)
    }
    const conn = this.upConn
    this.upConn = null
    if (conn !== null) conn.release(false)
    this.release()
  }

  /** Log and count the request, then let the client connection go on. */
  finish(): void {
    if (!this.active) return
    this.active = false
    this.ctx.deadlines.disarm(this.deadline)
    this.bytesIn = this.conn.requestBytes
    this.log()
    this.head = null
    this.pending = null
    this.conn.requestDone()
  }

  /** The access-log line and the request's metrics (access-line.ts). */
  log(): void {
    logExchange(this)
  }
}

function describe(kind: FailureKind, up: Upstream | null, err: Error | null): string {
  const label = up === null ? '-' : up.label
  const cause = err === null ? '' : `: ${errorText(err)}`
  switch (kind) {
    case 'refused':
    case 'connect_error':
      return `cannot connect to ${label}${cause}`
    case 'connect_timeout':
      return `${label} timed out (connect)`
    case 'server_timeout':
      return `${label} timed out (headers)`
    case 'body_timeout':
      return `${label} timed out (body)`
    case 'protocol':
      return `invalid response from ${label}${cause}`
    case 'reset':
    case 'body_reset':
      return `connection to ${label} closed early${cause}`
    case 'queue_timeout':
    case 'no_server':
      return `no server available for ${label}`
  }
}

function errorText(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code
  return code === undefined ? err.message : `${code} ${err.message}`
}

function isH2c(upgrade: string): boolean {
  return upgrade.length === 3 && upgrade.toLowerCase() === 'h2c'
}

/** The protocol a 101 switches to is one the client asked for (case-insensitive token match). */
function upgradeMatches(requested: string, answered: string): boolean {
  const a = answered.trim().toLowerCase()
  if (a === '') return false
  const wanted = requested.toLowerCase().split(',')
  for (let i = 0; i < wanted.length; i++) if ((wanted[i] as string).trim() === a) return true
  return false
}

function setHost(headers: string[], value: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]
    if (name !== undefined && name.length === 4 && name.toLowerCase() === 'host') {
      headers[i + 1] = value
      return
    }
  }
  headers.push('Host', value)
}
