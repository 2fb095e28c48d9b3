/**
 * The forwarding engine behind a narrow interface: a request head + body stream in, response events out.
 *
 * The handler shape is undici's dispatch handler (onConnect/onHeaders/onData/onComplete/onError/onUpgrade):
 * undici's `Pool#dispatch` calls it with no adapter in between, which measured fastest of undici's APIs.
 * A faster engine (HTTP/1.1 on raw sockets) can replace UndiciEngine behind this interface.
 */
import type { Readable } from 'node:stream'
import type { ProxyAddresses } from './proxy-protocol.js'

export interface UpstreamRequest {
  readonly method: string
  /** Path + query sent upstream (after strip/prepend). */
  readonly path: string
  /** Flat [name, value, …] list, hop-by-hop headers already removed. */
  readonly headers: string[]
  /** The client's request body, or null when the request has none. */
  readonly body: Readable | null
  /** Time allowed from request sent to response headers. */
  readonly headersTimeout: number
  /** Inactivity allowed while receiving the response body. */
  readonly bodyTimeout: number
  /** Safe to replay on a fresh connection (no body, idempotent method). */
  readonly idempotent: boolean
  /**
   * With `sendProxy`: the addresses for the PROXY header of the connection that carries this request (the
   * client and the address it connected to). null when the service does not send PROXY.
   */
  readonly proxy: ProxyAddresses | null
}

export interface ResponseHandler {
  /** The request got a connection and is about to be written; `abort` cancels it (connection not reused). */
  onConnect(abort: (err?: Error) => void): void
  /** Response head; 1xx may arrive first. Return false to pause until `resume` is called. */
  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean
  /** A body chunk; return false for backpressure (then call `resume` from onHeaders). */
  onData(chunk: Buffer): boolean
  /** Body complete; raw trailers (flat). */
  onComplete(trailers: Buffer[] | null): void
  /** Failure at any stage. onConnect not called yet = nothing was sent upstream. */
  onError(err: Error): void
}

/** One connection pool to one server. */
export interface UpstreamDispatcher {
  dispatch(request: UpstreamRequest, handler: ResponseHandler): void
  /** Stop accepting requests, let in-flight ones finish, then close connections. */
  close(): Promise<void>
  /** Close every connection now. */
  destroy(): Promise<void>
}

export interface DispatcherOptions {
  /** `http://1.2.3.4:80` — already-resolved address. */
  readonly origin: string
  /** TLS server name (SNI) for https upstreams given by hostname. */
  readonly servername: string
  readonly connectTimeout: number
  readonly keepAliveTimeout: number
  readonly connections: number
  readonly tlsSkipVerify: boolean
  /**
   * PROXY protocol header on each new connection (haproxy `send-proxy[-v2]`). A connection then belongs to one
   * client: it is reused only for requests with the same PROXY addresses.
   */
  readonly sendProxy: 'none' | 'v1' | 'v2'
}

export interface Engine {
  readonly name: string
  createDispatcher(options: DispatcherOptions): UpstreamDispatcher
}
