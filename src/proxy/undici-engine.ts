/**
 * The undici forwarding engine: one undici Pool per server, keep-alive, bounded connections.
 *
 * With `sendProxy` (haproxy `send-proxy`, `send-proxy-v2`) each new connection starts with a PROXY header
 * naming the client whose request opened it, so a connection must never carry another client's request:
 * the server then keeps one Pool per distinct header (client address and port, destination address and
 * port), as haproxy hashes the PROXY parameters into its connection-reuse key. A client's keep-alive
 * requests share its upstream connections; different clients never do. A Pool is dropped once its last
 * connection closed (keep-alive timeout, server close) and it has no requests left.
 */
import { Pool, buildConnector } from 'undici'
import type { Dispatcher } from 'undici'
import type {
  DispatcherOptions,
  Engine,
  ResponseHandler,
  UpstreamDispatcher,
  UpstreamRequest,
} from './engine.js'
import { encodeProxy, type ProxyAddresses } from './proxy-protocol.js'

function tlsOptions(options: DispatcherOptions): { rejectUnauthorized?: boolean; servername?: string } {
  return options.origin.startsWith('https:')
    ? {
        rejectUnauthorized: !options.tlsSkipVerify,
        ...(options.servername === '' ? {} : { servername: options.servername }),
      }
    : {}
}

function createPool(options: DispatcherOptions, connect: buildConnector.connector | null): Pool {
  const base = { timeout: options.connectTimeout, noDelay: true, ...tlsOptions(options) }
  return new Pool(options.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: options.keepAliveTimeout,
    keepAliveMaxTimeout: Math.max(options.keepAliveTimeout, 1_000),
    connect: connect ?? base,
    // Bodies are streamed straight through: undici must not enforce limits lb does not configure.
    maxResponseSize: -1,
    strictContentLength: true,
  })
}

function toDispatch(request: UpstreamRequest): Dispatcher.DispatchOptions {
  return {
    path: request.path,
    method: request.method as Dispatcher.HttpMethod,
    headers: request.headers,
    body: request.body,
    headersTimeout: request.headersTimeout,
    bodyTimeout: request.bodyTimeout,
    idempotent: request.idempotent,
  }
}

class UndiciDispatcher implements UpstreamDispatcher {
  readonly #pool: Pool
  constructor(options: DispatcherOptions) {
    this.#pool = createPool(options, null)
  }

  dispatch(request: UpstreamRequest, handler: ResponseHandler): void {
    this.#pool.dispatch(toDispatch(request), handler as unknown as Dispatcher.DispatchHandler)
  }

  close(): Promise<void> {
    return this.#pool.close()
  }

  destroy(): Promise<void> {
    return this.#pool.destroy()
  }
}

const NO_ADDRESSES: ProxyAddresses = { srcAddress: '', srcPort: 0, dstAddress: '', dstPort: 0 }

/**
 * undici connector that writes `header` first: TCP connect, header, then (https) TLS over that socket, so the
 * header precedes the TLS handshake as haproxy sends it. Each stage has the connect timeout.
 */
function proxyConnector(options: DispatcherOptions, header: Buffer): buildConnector.connector {
  const connect = buildConnector({ timeout: options.connectTimeout, ...tlsOptions(options) })
  return (opts, callback) => {
    connect({ ...opts, protocol: 'http:' }, (err, socket) => {
      if (err !== null) {
        callback(err, null)
        return
      }
      socket.write(header)
      if (opts.protocol === 'https:') connect({ ...opts, httpSocket: socket }, callback)
      else callback(null, socket)
    })
  }
}

/** One Pool per PROXY header (see the module comment). */
class ProxyProtocolDispatcher implements UpstreamDispatcher {
  readonly #options: DispatcherOptions
  readonly #version: 'v1' | 'v2'
  readonly #pools: Map<string, Pool>
  constructor(options: DispatcherOptions, version: 'v1' | 'v2') {
    this.#options = options
    this.#version = version
    this.#pools = new Map()
  }

  dispatch(request: UpstreamRequest, handler: ResponseHandler): void {
    const header = encodeProxy(this.#version, request.proxy ?? NO_ADDRESSES)
    const key = header.toString('latin1')
    let pool = this.#pools.get(key)
    if (pool === undefined) {
      pool = createPool(this.#options, proxyConnector(this.#options, header))
      const p = pool
      const forget = (): void => {
        const stats = p.stats
        if (stats.connected === 0 && stats.size === 0 && this.#pools.get(key) === p) {
          this.#pools.delete(key)
          void p.close()
        }
      }
      pool.on('disconnect', forget)
      pool.on('connectionError', forget)
      this.#pools.set(key, pool)
    }
    pool.dispatch(toDispatch(request), handler as unknown as Dispatcher.DispatchHandler)
  }

  /** Open per-client pools (tests, metrics). */
  get size(): number {
    return this.#pools.size
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.allSettled(pools.map((p) => p.close()))
  }

  async destroy(): Promise<void> {
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.allSettled(pools.map((p) => p.destroy()))
  }
}

export const undiciEngine: Engine = {
  name: 'undici',
  createDispatcher(options: DispatcherOptions): UpstreamDispatcher {
    return options.sendProxy === 'none'
      ? new UndiciDispatcher(options)
      : new ProxyProtocolDispatcher(options, options.sendProxy)
  },
}
