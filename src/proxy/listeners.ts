/**
 * HTTP listeners: node:http servers wired to the proxy with lb's client-side timeouts.
 */
import { listenExtras } from '../net/listen.js'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net'
import type { Config, DeepReadonly, HttpListenerConfig } from '../config/schema.js'
import { parseProxyHeader } from './proxy-protocol.js'
import { handleRequest, LbResponse, type ListenerInfo, type ProxyContext } from './http.js'
import { Tunnel, type TunnelRegistry } from './tunnel.js'

/**
 * The worker-wide budget of open client connections over all HTTP listeners (`http.maxconn`, 0 = none).
 * A connection over it is closed as soon as it is accepted, before a byte is read.
 */
export class ConnectionBudget {
  readonly max: number
  open: number

  constructor(max: number) {
    this.max = max
    this.open = 0
  }
}

export class HttpListener {
  readonly config: DeepReadonly<HttpListenerConfig>
  readonly info: ListenerInfo
  readonly server: Server<typeof IncomingMessage, typeof LbResponse>
  /** With `accept_proxy`: the socket that listens, reads the PROXY header, then hands over to `server`. */
  readonly front: NetServer | null
  readonly #ctx: ProxyContext
  readonly #tunnels: TunnelRegistry
  readonly #tunnelTimeout: number
  readonly #maxHeaderSize: number

  constructor(
    config: DeepReadonly<HttpListenerConfig>,
    http: Config['http'],
    ctx: ProxyContext,
    tunnels: TunnelRegistry,
  ) {
    this.config = config
    this.info = { name: config.name, proto: 'http', port: config.port }
    this.#ctx = ctx
    this.#tunnels = tunnels
    this.#tunnelTimeout = http.timeouts.tunnel
    this.#maxHeaderSize = http.maxHeaderSize
    const t = http.timeouts
    this.server = createServer<typeof IncomingMessage, typeof LbResponse>({
      ServerResponse: LbResponse,
      // Complete request headers within http_request, else 408 (anti-slowloris). Node checks on a shared
      // coarse interval; keep it a fraction of the timeout so 408s arrive close to it.
      headersTimeout: t.httpRequest,
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(t.httpRequest / 4))),
      // Uploads may legitimately take long; inactivity is bounded by `client` below.
      requestTimeout: 0,
      keepAliveTimeout: t.keepAlive,
      maxHeaderSize: http.maxHeaderSize,
      // Strict parsing even when NODE_OPTIONS carries --insecure-http-parser: lenient parsing (CL+TE, obs-fold,
      // bare LF) is how requests get smuggled past a proxy. HTTP/1.1 without Host is a 400.
      insecureHTTPParser: false,
      requireHostHeader: true,
      noDelay: true,
    })
    // Client inactivity (haproxy `timeout client`): Node destroys the socket when no 'timeout' listener exists.
    this.server.timeout = t.client
    this.server.on('request', this.#onRequest)
    this.server.on('clientError', this.#onClientError)
    this.server.on('upgrade', this.#onUpgrade)
    this.front = null
    if (config.acceptProxy === true) {
      const server = this.server
      const timeout = t.httpRequest
      this.front = createNetServer({ noDelay: true }, (socket) => acceptProxy(socket, server, timeout))
    }
    // Connection limits apply where sockets are accepted. Per listener Node itself closes the ones over
    // `maxConnections` before emitting them; the worker-wide budget is counted here.
    const accepting = this.front ?? this.server
    if (config.maxconn !== undefined && config.maxconn > 0) accepting.maxConnections = config.maxconn
    if (ctx.connections.max > 0) accepting.on('connection', this.#onConnection)
  }

  readonly #onConnection = (socket: Socket): void => {
    const budget = this.#ctx.connections
    if (budget.open >= budget.max) {
      socket.destroy()
      return
    }
    budget.open++
    socket.once('close', this.#onConnectionClose)
  }

  readonly #onConnectionClose = (): void => {
    this.#ctx.connections.open--
  }

  readonly #onRequest = (req: IncomingMessage, res: LbResponse): void => {
    handleRequest(this.#ctx, this.info, req, res)
  }

  readonly #onClientError = (err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex): void => {
    answerClientError(err, socket as ClientSocket, this.#maxHeaderSize)
  }

  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node hands a net.Socket to 'upgrade' on plain HTTP listeners.
    new Tunnel(this.#ctx, this.info, this.#tunnels, this.#tunnelTimeout, req, socket as Socket, head).start()
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err)
      const bound = this.front ?? this.server
      bound.once('error', onError)
      const opts =
        this.config.host === ''
          ? { port: this.config.port, ...listenExtras(this.config.port) }
          : { port: this.config.port, host: this.config.host, ...listenExtras(this.config.port) }
      bound.listen(opts, () => {
        bound.off('error', onError)
        const port = (bound.address() as AddressInfo).port
        this.info.port = port
        resolve(port)
      })
    })
  }

  /** Stop accepting, close idle keep-alive connections, wait for in-flight requests up to `timeout` ms. */
  async close(timeout: number): Promise<void> {
    const server = this.server
    const front = this.front
    // With accept_proxy the net server listens and counts the connections it handed over.
    const closed = new Promise<void>((resolve) => (front ?? server).close(() => resolve()))
    server.closeIdleConnections()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        server.closeAllConnections()
        resolve()
      }, timeout)
    })
    await Promise.race([closed, deadline])
    clearTimeout(timer)
  }
}

/**
 * `accept_proxy`: read a PROXY v1/v2 header, then hand the socket to the HTTP server with the advertised client
 * address as `remoteAddress`/`remotePort`, so X-Forwarded-For, trusted-proxy checks, allow/deny and the access
 * log all see the real client (haproxy: "the advertised addresses are used everywhere"). A missing or invalid
 * header closes the connection; so does none within `timeout` ms.
 */
function acceptProxy(
  socket: Socket,
  server: { emit(event: 'connection', s: Socket): boolean },
  timeout: number,
): void {
  let buf: Buffer = Buffer.alloc(0)
  const onTimeout = (): void => {
    socket.destroy()
  }
  socket.setTimeout(timeout, onTimeout)
  socket.on('error', onPrefaceError)
  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    const r = parseProxyHeader(buf)
    if (r.status === 'incomplete') return
    socket.off('data', onData)
    socket.setTimeout(0)
    socket.off('timeout', onTimeout)
    if (r.status === 'invalid') {
      socket.destroy()
      return
    }
    socket.pause()
    const h = r.header
    if (h.command === 'proxy' && h.family !== 'unknown') {
      Object.defineProperty(socket, 'remoteAddress', { value: h.srcAddress, configurable: true })
      Object.defineProperty(socket, 'remotePort', { value: h.srcPort, configurable: true })
      Object.defineProperty(socket, 'remoteFamily', {
        value: h.family === 'tcp4' ? 'IPv4' : 'IPv6',
        configurable: true,
      })
    }
    const rest = buf.subarray(r.length)
    if (rest.length > 0) socket.unshift(rest)
    socket.off('error', onPrefaceError)
    server.emit('connection', socket)
    socket.resume()
  }
  socket.on('data', onData)
}

/** A client socket as Node's HTTP server hands it to 'clientError': the response in flight, if any. */
interface ClientSocket extends Duplex {
  readonly _httpMessage?: { readonly headersSent: boolean } | null
}

const REQUEST_LINE_START = /^[A-Z]+ /

/**
 * Node's default 'clientError' answer, plus 414 for an over-long request line (Node says 431 for any overflow of
 * max_header_size). A request line is over-long when the bytes that overflowed hold no line end at all or only
 * one after more than half the limit: a request line alone that long leaves no room for the headers. Node only
 * shows the chunk that overflowed, so a request line that arrived split over many TCP segments gets 431. Parse
 * errors answer 400, a header timeout 408; the connection is always closed, so no byte after an error is read
 * as a request. Nothing is written once a response has started on the socket.
 */
function answerClientError(
  err: Error & { code?: string; rawPacket?: Buffer },
  s: ClientSocket,
  limit: number,
): void {
  if (
    s.writable &&
    (s._httpMessage === undefined || s._httpMessage === null || !s._httpMessage.headersSent)
  ) {
    let status = '400 Bad Request'
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = requestLineTooLong(err.rawPacket, limit)
        ? '414 URI Too Long'
        : '431 Request Header Fields Too Large'
    } else if (err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') {
      status = '413 Payload Too Large'
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = '408 Request Timeout'
    }
    s.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  }
  s.destroy()
}

function requestLineTooLong(packet: Buffer | undefined, limit: number): boolean {
  if (packet === undefined) return false
  if (!REQUEST_LINE_START.test(packet.subarray(0, 16).toString('latin1'))) return false
  const lf = packet.indexOf(10)
  return lf < 0 || lf > limit / 2
}

function onPrefaceError(this: Socket): void {
  this.destroy()
}
