/**
 * A TCP listener (haproxy `mode tcp` frontend): accepts, starts a session per connection (src/proxy/tcp/session.ts),
 * and finds routes by port and server name (src/route/tcp.ts).
 *
 * With `tls` the listener terminates TLS first, as an HTTPS listener does (src/proxy/tls-accept.ts: PROXY header,
 * ClientHello, certificates by server name, `client_auth`), bounded by `timeouts.client`; the session then
 * relays the plain bytes and routes by the handshake's server name.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { listenExtras } from '../../net/listen.js'
import { nodeInternals } from '../../net/node-internals.js'
import type { TcpListenerConfig, DeepReadonly } from '../../config/types.js'
import type { TcpRouteSpec } from '../../model/snapshot.js'
import type { Logger } from '../../log/log.js'
import type { Metrics } from '../../metrics/metrics.js'
import { buildTcpRoutes, type TcpRouteIndex } from '../../route/tcp.js'
import type { ProxyState } from '../request-path.js'
import { TcpSession } from './session.js'
import type { TLSSocket } from 'node:tls'
import type { ProxyHeader } from '../../net/proxy-protocol.js'
import { TlsStart, type TlsStartContext } from '../tls-accept.js'
import { buildTlsContexts, type TlsContexts } from '../tls-contexts.js'
import type { Deadlines } from '../timers.js'

/** What TCP listeners read from the worker: the current services and TCP routes (swapped whole). */
export interface TcpContext {
  readonly state: () => ProxyState
  readonly tcpRoutes: () => readonly TcpRouteSpec[]
  readonly accessLog: Logger
  readonly log: Logger
  readonly rand: () => number
  readonly now: () => number
  readonly metrics: Metrics
  readonly deadlines: Deadlines
  /** See ProxyContext.ticketKey (src/proxy/context.ts). */
  readonly ticketKey: (name: string, rotation: number) => Buffer
}

export class TcpListener {
  readonly config: DeepReadonly<TcpListenerConfig>
  readonly info: { readonly name: string; port: number }
  readonly server: Server
  readonly ctx: TcpContext
  readonly sessions: Set<TcpSession>
  #routesFrom: readonly TcpRouteSpec[] | null
  #routes: TcpRouteIndex
  /** The certificates of a TLS-terminating listener (null: bytes pass as they come). */
  #tls: TlsContexts | null
  readonly #tlsCtx: TlsStartContext

  /** Throws when a TLS listener's certificate files cannot be read or used. */
  constructor(config: DeepReadonly<TcpListenerConfig>, ctx: TcpContext) {
    this.config = config
    this.info = { name: config.name, port: config.port }
    this.ctx = ctx
    this.sessions = new Set()
    this.#routesFrom = null
    this.#routes = buildTcpRoutes([], config.port)
    this.#tls =
      config.tls === undefined
        ? null
        : buildTlsContexts(config.tls, ctx.ticketKey(config.name, config.tls.ticketRotation))
    this.#tlsCtx = { deadlines: ctx.deadlines, timeouts: { httpRequest: config.timeouts.client } }
    // Paused on connect so that a session can switch the client to onread before its first read (and so that
    // the TLS start sees every byte).
    this.server = createServer({
      allowHalfOpen: true,
      pauseOnConnect: nodeInternals.onreadSlots !== null || this.#tls !== null,
      noDelay: true,
    })
    this.server.on('connection', (socket: Socket) => {
      const tls = this.#tls
      if (tls === null) new TcpSession(this, socket).start()
      else new TlsStart(socket, this.#tlsCtx, tls, this.config.acceptProxy, this.#onHandshake).start()
    })
  }

  readonly #onHandshake = (socket: TLSSocket, proxy: ProxyHeader | null): void => {
    new TcpSession(this, socket).startTls(
      proxy,
      typeof socket.servername === 'string' ? socket.servername : '',
    )
  }

  /** A reload: new handshakes use these certificates and protocol settings; open sessions keep theirs. */
  setTls(next: TlsContexts): void {
    this.#tls = next
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
