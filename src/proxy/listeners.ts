/**
 * HTTP listeners: node:http servers wired to the proxy with lb's client-side timeouts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { AddressInfo, Socket } from 'node:net'
import type { Config, ListenerConfig } from '../config/schema.js'
import { handleRequest, LbResponse, type ListenerInfo, type ProxyContext } from './http.js'
import { Tunnel, type TunnelRegistry } from './tunnel.js'

export class HttpListener {
  readonly config: ListenerConfig
  readonly info: ListenerInfo
  readonly server: Server<typeof IncomingMessage, typeof LbResponse>
  readonly #ctx: ProxyContext
  readonly #tunnels: TunnelRegistry
  readonly #tunnelTimeout: number

  constructor(config: ListenerConfig, http: Config['http'], ctx: ProxyContext, tunnels: TunnelRegistry) {
    this.config = config
    this.info = { name: config.name, proto: 'http', port: config.port }
    this.#ctx = ctx
    this.#tunnels = tunnels
    this.#tunnelTimeout = http.timeouts.tunnel
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
      noDelay: true,
    })
    // Client inactivity (haproxy `timeout client`): Node destroys the socket when no 'timeout' listener exists.
    this.server.timeout = t.client
    this.server.on('request', this.#onRequest)
    this.server.on('upgrade', this.#onUpgrade)
  }

  readonly #onRequest = (req: IncomingMessage, res: LbResponse): void => {
    handleRequest(this.#ctx, this.info, req, res)
  }

  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node hands a net.Socket to 'upgrade' on plain HTTP listeners.
    new Tunnel(this.#ctx, this.info, this.#tunnels, this.#tunnelTimeout, req, socket as Socket, head).start()
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err)
      this.server.once('error', onError)
      const opts =
        this.config.host === ''
          ? { port: this.config.port }
          : { port: this.config.port, host: this.config.host }
      this.server.listen(opts, () => {
        this.server.off('error', onError)
        const port = (this.server.address() as AddressInfo).port
        this.info.port = port
        resolve(port)
      })
    })
  }

  /** Stop accepting, close idle keep-alive connections, wait for in-flight requests up to `timeout` ms. */
  async close(timeout: number): Promise<void> {
    const server = this.server
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
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
