/**
 * The undici forwarding engine: one undici Pool per server, keep-alive, bounded connections.
 */
import { Pool } from 'undici'
import type { Dispatcher } from 'undici'
import type {
  DispatcherOptions,
  Engine,
  ResponseHandler,
  UpstreamDispatcher,
  UpstreamRequest,
} from './engine.js'

class UndiciDispatcher implements UpstreamDispatcher {
  readonly #pool: Pool
  constructor(options: DispatcherOptions) {
    const tls = options.origin.startsWith('https:')
      ? {
          rejectUnauthorized: !options.tlsSkipVerify,
          ...(options.servername === '' ? {} : { servername: options.servername }),
        }
      : {}
    this.#pool = new Pool(options.origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: options.keepAliveTimeout,
      keepAliveMaxTimeout: Math.max(options.keepAliveTimeout, 1_000),
      connect: { timeout: options.connectTimeout, noDelay: true, ...tls },
      // Bodies are streamed straight through: undici must not enforce limits lb does not configure.
      maxResponseSize: -1,
      strictContentLength: true,
    })
  }

  dispatch(request: UpstreamRequest, handler: ResponseHandler): void {
    this.#pool.dispatch(
      {
        path: request.path,
        method: request.method as Dispatcher.HttpMethod,
        headers: request.headers,
        body: request.body,
        headersTimeout: request.headersTimeout,
        bodyTimeout: request.bodyTimeout,
        idempotent: request.idempotent,
      },
      handler as unknown as Dispatcher.DispatchHandler,
    )
  }

  close(): Promise<void> {
    return this.#pool.close()
  }

  destroy(): Promise<void> {
    return this.#pool.destroy()
  }
}

export const undiciEngine: Engine = {
  name: 'undici',
  createDispatcher(options: DispatcherOptions): UpstreamDispatcher {
    return new UndiciDispatcher(options)
  },
}
