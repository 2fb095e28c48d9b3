/**
 * The start of a connection on an HTTPS listener, before the HTTP engine sees it: (with `accept_proxy`) the PROXY
 * header, then the ClientHello, read on the plain TCP socket; the server name in it picks the certificates
 * (tls-contexts.ts `contextFor`), and the socket is wrapped in a server TLSSocket built from that context, with
 * the bytes read so far handed back first (`unshift`: a TLSSocket takes a wrapped socket's buffered bytes).
 *
 * Choosing the context before the TLSSocket exists, rather than in an SNICallback, is what lets an RSA and an
 * ECDSA certificate for one name both be offered: Node's SNICallback copies only one certificate of the context
 * it is given into the connection.
 *
 * With `client_auth` the TLSSocket asks for a client certificate; one the CA does not verify (or none, when
 * required) ends the connection once the handshake is done (client-cert.ts).
 *
 * The whole start (PROXY header, ClientHello, handshake) must complete within `http_request`.
 */
import type { Socket } from 'node:net'
import { TLSSocket } from 'node:tls'
import { parseClientHelloSni } from '../net/sni.js'
import { parseProxyHeader, type ProxyHeader } from '../net/proxy-protocol.js'
import { Deadline, type DeadlineOwner, type Deadlines } from './timers.js'
import { contextFor, type TlsContexts } from './tls-contexts.js'
import { acceptClientCertificate } from './client-cert.js'

/** A PROXY header and a ClientHello each fit in this many bytes; a client sending more without either is closed. */
const START_LIMIT = 16 + 65_535 + 16_389

/** A TLS record: a fatal alert (2), unrecognized_name (112, RFC 6066 section 3). */
const UNRECOGNIZED_NAME = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70])

/** What a handshake needs of its listener's context: the deadline heap and the bound on the whole start. */
export interface TlsStartContext {
  readonly deadlines: Deadlines
  readonly timeouts: { readonly httpRequest: number }
}

/** What the handshake hands on: the TLS socket and the PROXY header's addresses (null without one). */
export type TlsAccepted = (tls: TLSSocket, proxy: ProxyHeader | null) => void

export class TlsStart implements DeadlineOwner {
  readonly socket: Socket
  readonly ctx: TlsStartContext
  readonly contexts: TlsContexts
  readonly done: TlsAccepted
  readonly deadline: Deadline
  /** Still waiting for the PROXY header. */
  needProxy: boolean
  proxy: ProxyHeader | null
  buf: Buffer | null
  tls: TLSSocket | null
  /** ALPN protocols offered, in the server's order of preference (null: no ALPN, HTTP/1.1). */
  readonly alpn: string[] | null

  constructor(
    socket: Socket,
    ctx: TlsStartContext,
    contexts: TlsContexts,
    acceptProxy: boolean,
    done: TlsAccepted,
    alpn: string[] | null = null,
  ) {
    this.socket = socket
    this.ctx = ctx
    this.contexts = contexts
    this.done = done
    this.deadline = new Deadline(this)
    this.needProxy = acceptProxy
    this.proxy = null
    this.buf = null
    this.tls = null
    this.alpn = alpn
  }

  start(): void {
    const s = this.socket
    s.on('data', this.onData)
    s.on('error', this.onError)
    s.on('close', this.onClose)
    s.resume()
    this.ctx.deadlines.arm(this.deadline, this.ctx.timeouts.httpRequest, 1)
  }

  readonly onData = (chunk: Buffer): void => {
    let buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk])
    if (this.needProxy) {
      const r = parseProxyHeader(buf)
      if (r.status === 'incomplete') {
        this.keep(buf)
        return
      }
      if (r.status === 'invalid') {
        this.socket.destroy()
        return
      }
      this.needProxy = false
      this.proxy = r.header
      buf = buf.subarray(r.length)
      if (buf.length === 0) {
        this.buf = null
        return
      }
    }
    const hello = parseClientHelloSni(buf)
    if (hello.status === 'incomplete') {
      this.keep(buf)
      return
    }
    this.buf = null
    this.wrap(buf, hello.status === 'ok' ? hello.serverName : '')
  }

  keep(buf: Buffer): void {
    if (buf.length > START_LIMIT) this.socket.destroy()
    else this.buf = buf
  }

  /**
   * Hand the socket and the bytes read to a TLSSocket with the certificates for `serverName`; with `strict_sni`
   * and no certificate for it, answer with a fatal unrecognized_name alert and close (haproxy `strict-sni`).
   */
  wrap(read: Buffer, serverName: string): void {
    const s = this.socket
    s.off('data', this.onData)
    s.pause()
    const secureContext = contextFor(this.contexts, serverName)
    if (secureContext === null) {
      s.end(UNRECOGNIZED_NAME, this.onError)
      return
    }
    s.off('error', this.onError)
    s.off('close', this.onClose)
    s.unshift(read)
    const auth = this.contexts.clientAuth
    const tls = new TLSSocket(s, {
      isServer: true,
      secureContext,
      requestCert: auth !== null,
      rejectUnauthorized: auth !== null && auth.required,
      ...(this.alpn === null ? {} : { ALPNProtocols: this.alpn }),
    })
    this.tls = tls
    tls.on('secure', this.onSecure)
    tls.on('error', this.onError)
    tls.on('close', this.onClose)
  }

  readonly onSecure = (): void => {
    const tls = this.tls as TLSSocket
    this.ctx.deadlines.remove(this.deadline)
    tls.off('secure', this.onSecure)
    tls.off('error', this.onError)
    tls.off('close', this.onClose)
    const auth = this.contexts.clientAuth
    if (auth !== null && !acceptClientCertificate(tls, auth, Date.now())) {
      tls.destroy()
      return
    }
    this.done(tls, this.proxy)
  }

  /** A failed handshake (no common version or cipher, a reset): that connection ends. */
  readonly onError = (): void => {
    this.ctx.deadlines.remove(this.deadline)
    this.socket.destroy()
    this.tls?.destroy()
  }

  readonly onClose = (): void => {
    this.ctx.deadlines.remove(this.deadline)
  }

  onDeadline(): void {
    this.socket.destroy()
    this.tls?.destroy()
  }
}
