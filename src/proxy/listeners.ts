/**
 * HTTP listeners: a net.Server per listener whose connections are lb's own HTTP/1.1 server connections
 * (h1/client-conn.ts).
 *
 * Connection limits apply where sockets are accepted: a listener's `maxconn` (Node closes connections over
 * `maxConnections` before they reach lb) and the worker-wide `http.maxconn` budget, counted here. With
 * `accept_proxy` each connection starts by reading a PROXY header (the client connection does it; on an HTTPS
 * listener, tls-accept.ts before the handshake).
 *
 * With `tls` a connection reaches the HTTP engine once its handshake is done (tls-accept.ts), as a TLSSocket
 * read through 'data' events and written with `socket.write` (h1/client-conn.ts `plain`). The certificates are
 * chosen per handshake from `#tls` (tls-contexts.ts), which `setTls` replaces on a reload. The connection
 * budgets count connections from the end of their handshake (one arriving over budget is closed at once).
 *
 * HTTP/2 (h2/session.ts): an HTTPS listener offers `h2` before `http/1.1` by ALPN unless `http2: false`, and a
 * handshake that chose `h2` goes to the listener's Http2Front; a plain listener with `h2c: true` hands a
 * connection that starts with the HTTP/2 preface to it (h1/client-conn.ts `preface`). Draining sends GOAWAY.
 */
import { listenExtras } from '../net/listen.js'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { ProxyHeader } from '../net/proxy-protocol.js'
import { TlsStart } from './tls-accept.js'
import type { DeepReadonly, HttpListenerConfig } from '../config/types.js'
import { ClientConn, fastReads } from './h1/client-conn.js'
import type { ListenerInfo, ProxyContext } from './context.js'
import { buildTlsContexts, type TlsContexts } from './tls-contexts.js'
import { Http2Front } from './h2/session.js'

/** ALPN offer of an HTTPS listener with HTTP/2: h2 first, as Go's TLS server (fabio) and haproxy order it. */
const ALPN_H2: string[] = ['h2', 'http/1.1']

export class HttpListener {
  readonly config: DeepReadonly<HttpListenerConfig>
  readonly info: ListenerInfo
  readonly server: Server
  /** Open client connections of this listener. */
  readonly conns: Set<ClientConn>
  readonly #ctx: ProxyContext
  readonly #acceptProxy: boolean
  #closing: boolean
  /** The certificates of a TLS listener (null: plain HTTP). */
  #tls: TlsContexts | null
  /** HTTP/2 connections (null: HTTP/1.1 only). */
  readonly h2: Http2Front | null

  /** Throws when a TLS listener's certificate files cannot be read or used. */
  constructor(config: DeepReadonly<HttpListenerConfig>, ctx: ProxyContext) {
    this.config = config
    this.info = { name: config.name, proto: config.tls === undefined ? 'http' : 'https', port: config.port }
    this.#ctx = ctx
    this.#acceptProxy = config.acceptProxy === true
    this.#closing = false
    this.conns = new Set()
    this.#tls =
      config.tls === undefined
        ? null
        : buildTlsContexts(config.tls, ctx.ticketKey(config.name, config.tls.ticketRotation))
    const http2 = config.tls === undefined ? config.h2c === true : config.http2 !== false
    this.h2 = http2 ? new Http2Front(ctx, this.info) : null
    // allowHalfOpen: a client may send FIN once its request is out and still read the response.
    // pauseOnConnect: a connection starts reading only once it chose where its reads go (h1/client-conn.ts).
    this.server = createServer(
      { noDelay: true, allowHalfOpen: true, pauseOnConnect: fastReads || this.#tls !== null },
      this.#onConnection,
    )
    if (config.maxconn !== undefined && config.maxconn > 0) this.server.maxConnections = config.maxconn
  }

  /** A reload: new handshakes use these certificates and protocol settings; open connections keep theirs. */
  setTls(next: TlsContexts): void {
    this.#tls = next
  }

  readonly #onConnection = (socket: Socket): void => {
    if (this.#tls === null) {
      this.#accept(socket, true, null)
      return
    }
    const budget = this.#ctx.connections
    if ((budget.max > 0 && budget.open >= budget.max) || this.#closing) {
      socket.destroy()
      return
    }
    const alpn = this.h2 === null ? null : ALPN_H2
    new TlsStart(socket, this.#ctx, this.#tls, this.#acceptProxy, this.#onHandshake, alpn).start()
  }

  readonly #onHandshake = (socket: TLSSocket, proxy: ProxyHeader | null): void => {
    if (socket.alpnProtocol === 'h2' && this.h2 !== null) this.#acceptH2(socket, proxy)
    else this.#accept(socket, false, proxy)
  }

  /** An HTTP/2 connection after its handshake: counted in the budgets like an HTTP/1.1 one. */
  #acceptH2(socket: TLSSocket, proxy: ProxyHeader | null): void {
    const budget = this.#ctx.connections
    if ((budget.max > 0 && budget.open >= budget.max) || this.#closing) {
      socket.destroy()
      return
    }
    budget.open++
    socket.once('close', () => {
      budget.open--
    })
    ;(this.h2 as Http2Front).accept(socket, proxy)
  }

  /** A connection for the HTTP engine; `proxy`: a PROXY header read before the TLS handshake. */
  #accept(socket: Socket, plain: boolean, proxy: ProxyHeader | null): void {
    const ctx = this.#ctx
    const budget = ctx.connections
    if ((budget.max > 0 && budget.open >= budget.max) || this.#closing) {
      socket.destroy()
      return
    }
    budget.open++
    const conn = new ClientConn(ctx, this.info, socket, plain && this.#acceptProxy, plain, this.h2)
    if (proxy !== null) conn.useProxyHeader(proxy)
    this.conns.add(conn)
    socket.once('close', () => {
      budget.open--
      this.conns.delete(conn)
    })
    conn.start()
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err)
      const server = this.server
      server.once('error', onError)
      const opts =
        this.config.host === ''
          ? { port: this.config.port, ...listenExtras(this.config.port) }
          : { port: this.config.port, host: this.config.host, ...listenExtras(this.config.port) }
      server.listen(opts, () => {
        server.off('error', onError)
        const port = (server.address() as AddressInfo).port
        this.info.port = port
        resolve(port)
      })
    })
  }

  /**
   * Stop accepting, close idle keep-alive connections now and busy ones after their current response; at
   * `timeout` ms close whatever is left.
   */
  async close(timeout: number): Promise<void> {
    this.#closing = true
    const server = this.server
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const conn of this.conns) {
      if (conn.idle) conn.destroy()
      else conn.closeAfter = true
    }
    const h2 = this.h2
    if (h2 !== null) h2.drain()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const conn of this.conns) conn.destroy()
        if (h2 !== null) h2.destroyAll()
        resolve()
      }, timeout)
    })
    await Promise.race([closed, deadline])
    clearTimeout(timer)
  }
}
