/**
 * A TCP listener (haproxy `mode tcp` frontend): accepts, starts a session per connection (src/proxy/tcp/session.ts),
 * and finds routes by port and server name (src/route/tcp.ts).
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
    this.server = createServer({
      allowHalfOpen: true,
      pauseOnConnect: nodeInternals.onreadSlots !== null,
      noDelay: true,
    })
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
