/**
 * The client side of one request, as the Exchange (exchange.ts) sees it: where its response goes and where its
 * request body comes from, whatever the protocol. The Exchange decides (status, headers, whether the body has a
 * known length); the client side writes it in its protocol:
 * - h1/client-conn.ts: HTTP/1.1 text on the connection (status line, header lines, chunked or Content-Length
 *   framing, `Connection`/`Keep-Alive`), one request at a time;
 * - h2/stream.ts: an HTTP/2 stream of node:http2 (`stream.respond()`, `stream.write()`, trailers).
 *
 * Types only: the implementations refer to the Exchange, the Exchange to this interface.
 */
import type { Socket } from 'node:net'
import type { TunnelOrigin } from './tunnel.js'

export interface ClientSide {
  /** The client's address and port (a PROXY header's, with `accept_proxy`). */
  readonly remote: string
  readonly remotePort: number
  /** The address and port the client connected to. */
  readonly localAddress: string
  readonly localPort: number
  /** The connection's socket (the access log's raw remote address). */
  readonly socket: Socket
  /** Bytes of the current request read (head and body), for the access log. */
  readonly requestBytes: number
  /** Request body buffers are views of a read buffer reused after the call: a body kept for later is copied. */
  readonly onread: boolean
  /** A request body buffer is referenced beyond the call (the client side must read into a fresh buffer). */
  lent: boolean
  /** The last `sendData` left its buffer referenced (a write not taken at once). */
  readonly dataLent: boolean

  /** `100 Continue` (the request asked for it and has a body). */
  sendContinue(): void
  /**
   * The response head: status and reason, response headers (flat, hop-by-hop fields already removed), the
   * route's HSTS value ('' = none; it replaces the server's), and the body's framing: `te` non-empty = a body of
   * unknown length (the server's Transfer-Encoding, or `chunked` for gzip output), `toClose` = a body that ends
   * when the server closes. `more`: body bytes follow in this same turn (the head may go out with them).
   * false: wait for the client to drain before writing more.
   */
  sendHead(
    status: number,
    reason: string,
    headers: readonly string[],
    hsts: string,
    te: string,
    toClose: boolean,
    more: boolean,
  ): boolean
  /** Response body bytes. false: wait for the drain (`onClientDrain`). */
  sendData(data: Buffer): boolean
  /** The response is complete; `trailers` as received from the server (`name: value\r\n` lines, '' = none). */
  sendEnd(trailers: string): boolean
  /** A local answer, whole (lb's error text, the no-route page, a redirect or a 401 challenge). */
  sendLocal(
    status: number,
    body: string,
    contentType: string,
    location: string | null,
    challenge: string,
  ): boolean
  /** The server switched protocols (`101`) for an Upgrade request: the connection becomes a tunnel. */
  switchProtocols(
    origin: TunnelOrigin,
    reason: string,
    headers: readonly string[],
    upgrade: string,
    server: Socket,
    rest: Buffer | null,
  ): void
  /** Stop reading the request body (the server side cannot take more), and go on. */
  hold(): void
  unhold(): void
  /** A write did not fit: the client must read within `timeouts.client`. */
  awaitDrain(): void
  /** Cut the client off (a failure after the response started). */
  destroy(): void
  /** The exchange is finished: the next request may start. */
  requestDone(): void
}
