/**
 * One HTTP/2 request stream as the client side of an Exchange (client-side.ts): node:http2 (nghttp2) does the
 * framing, HPACK and flow control; this file maps the stream's request onto the RequestHead the request path
 * reads, and the Exchange's response onto `stream.respond()`, `stream.write()` and trailers.
 *
 * Request mapping (RFC 9113 §8.3, §8.2.2): `:method` and `:path` are the request line; `:authority` (else
 * `host`) is the host routed on and sent upstream as Host (both, when they differ: 400); repeated `cookie`
 * fields are joined with `; `; connection-specific fields (Connection, Keep-Alive, Proxy-Connection,
 * Transfer-Encoding, Upgrade) and a `te` other than `trailers` make the stream malformed: it is reset with
 * PROTOCOL_ERROR and nothing reaches a server (nghttp2 refuses most of them before lb sees the stream). A body
 * without `content-length` goes upstream chunked, with the request's trailers; a `content-length` the DATA does
 * not match resets the stream (nghttp2), which cancels the upstream request. CONNECT has no origin-form path
 * and gets the 400 an HTTP/1.1 CONNECT gets; extended CONNECT is never enabled (SETTINGS_ENABLE_CONNECT_PROTOCOL
 * is not sent), so WebSocket clients use HTTP/1.1.
 *
 * Backpressure: a response write the stream does not take (`write()` false, the client's flow-control window or
 * the session's buffer full) pauses the server connection until the stream's 'drain'; a request body the server
 * cannot take pauses the stream, which stops nghttp2's WINDOW_UPDATEs to the client.
 *
 * The stream object of the session (session.ts) is reused for the session's next streams once both its exchange
 * and its node:http2 stream are done.
 */
import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2'
import type { Socket } from 'node:net'
import { Exchange } from '../exchange.js'
import { RequestHead } from '../../net/h1/parse.js'
import { RESPONSE_HOP } from '../headers.js'
import { Deadline, type DeadlineOwner } from '../timers.js'
import type { ClientSide } from '../client-side.js'
import type { TunnelOrigin } from '../tunnel.js'
import type { H2Session } from './session.js'

const { NGHTTP2_PROTOCOL_ERROR, NGHTTP2_INTERNAL_ERROR, NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = constants

/** `mapRequest`: the header list is over `http.max_header_size` (431). */
const TOO_LARGE = 'header list too large'

const kStream = Symbol('lb.h2stream')
interface LbStream extends ServerHttp2Stream {
  [kStream]: H2Stream
}

/** Fields that exist only on an HTTP/1.1 connection: a request carrying one is malformed (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
])

/** Trailer fields that do not exist in HTTP/2: the response's hop-by-hop ones (headers.ts) and framing. */
function notATrailer(name: string): boolean {
  return RESPONSE_HOP.has(name) || name === 'content-length'
}

export class H2Stream implements ClientSide, DeadlineOwner {
  readonly session: H2Session
  readonly ex: Exchange
  readonly head: RequestHead
  stream: ServerHttp2Stream | null
  readonly remote: string
  readonly remotePort: number
  readonly localAddress: string
  readonly localPort: number
  readonly socket: Socket
  requestBytes: number
  readonly onread: boolean
  lent: boolean
  readonly dataLent: boolean
  /** The request body is complete (or there is none). */
  bodyDone: boolean
  /** Request trailers as `name: value\r\n` lines for a chunked upstream request. */
  trailers: string
  /** Response trailers to send on 'wantTrailers' (flat pairs). */
  outTrailers: OutgoingHttpHeaders | null
  /** lb reset the stream itself (not a client RST_STREAM). */
  resetByUs: boolean
  /** The exchange finished (requestDone); the stream may still be flushing. */
  exDone: boolean
  /** node:http2 closed the stream. */
  closed: boolean
  readonly deadline: Deadline

  constructor(session: H2Session) {
    this.session = session
    this.remote = session.remote
    this.remotePort = session.remotePort
    this.localAddress = session.localAddress
    this.localPort = session.localPort
    this.socket = session.socket
    this.head = new RequestHead()
    this.stream = null
    this.requestBytes = 0
    this.onread = false
    this.lent = false
    // stream.write() keeps the buffer until nghttp2 sends it.
    this.dataLent = true
    this.bodyDone = true
    this.trailers = ''
    this.outTrailers = null
    this.resetByUs = false
    this.exDone = true
    this.closed = true
    this.deadline = new Deadline(this)
    this.ex = new Exchange(session.ctx, session.listener, this)
  }

  /** A new stream of the session: map its request, then hand it to the exchange. */
  start(stream: ServerHttp2Stream, raw: readonly string[]): void {
    const s = stream as LbStream
    s[kStream] = this
    this.stream = stream
    this.requestBytes = 0
    this.lent = false
    this.trailers = ''
    this.outTrailers = null
    this.resetByUs = false
    this.exDone = false
    this.closed = false
    stream.on('close', onClose)
    stream.on('error', onError)
    stream.on('drain', onDrain)
    stream.on('wantTrailers', onWantTrailers)
    const head = this.head
    head.reset()
    head.h2 = true
    const problem = mapRequest(raw, head, stream.endAfterHeaders, this.session.ctx.maxHeaderSize)
    if (problem !== '') {
      // Refused as HTTP/1.1 refuses (h1/client-conn.ts `refuse`): nothing upstream, no access line. The
      // stream is done once node:http2 closes it.
      this.exDone = true
      this.bodyDone = true
      if (problem !== TOO_LARGE) {
        this.reset(NGHTTP2_PROTOCOL_ERROR)
        return
      }
      try {
        stream.respond({ ':status': 431, 'content-length': 0 }, { endStream: true })
        // A body that still comes is read and dropped.
        stream.resume()
      } catch {
        this.reset(NGHTTP2_INTERNAL_ERROR)
      }
      return
    }
    this.bodyDone = !(head.chunked || head.contentLength > 0)
    if (!stream.endAfterHeaders) {
      stream.on('data', onData)
      stream.on('trailers', onTrailers)
      stream.on('end', onEnd)
      if (!this.bodyDone) this.session.ctx.deadlines.arm(this.deadline, this.session.ctx.timeouts.client, 1)
    }
    this.ex.begin(head)
  }

  onData(chunk: Buffer): void {
    this.requestBytes += chunk.length
    if (this.bodyDone || !this.ex.active) return
    this.session.ctx.deadlines.arm(this.deadline, this.session.ctx.timeouts.client, 1)
    this.ex.requestBody(chunk, 0, chunk.length)
  }

  onTrailers(headers: IncomingHttpHeaders): void {
    let t = ''
    for (const name of Object.keys(headers)) {
      if (name.charCodeAt(0) === 58 /* : */ || notATrailer(name)) continue
      const v = headers[name]
      if (Array.isArray(v)) for (const one of v) t += name + ': ' + one + '\r\n'
      else if (v !== undefined) t += name + ': ' + v + '\r\n'
    }
    this.trailers = t
  }

  onEnd(): void {
    if (this.bodyDone) return
    this.bodyDone = true
    this.session.ctx.deadlines.disarm(this.deadline)
    this.ex.requestBodyEnd(this.head.chunked ? this.trailers : '')
  }

  onClose(): void {
    const stream = this.stream as ServerHttp2Stream
    this.closed = true
    this.session.ctx.deadlines.disarm(this.deadline)
    if (!this.resetByUs && stream.rstCode !== NGHTTP2_NO_ERROR && stream.rstCode !== undefined)
      this.session.clientReset()
    if (this.ex.active) this.ex.clientGone()
    this.recycle()
  }

  onDeadline(): void {
    if (this.closed) return
    if (this.ex.active) this.ex.clientTimeout()
    this.reset(NGHTTP2_CANCEL)
  }

  onDrain(): void {
    this.session.ctx.deadlines.disarm(this.deadline)
    if (this.ex.active) this.ex.onClientDrain()
  }

  onWantTrailers(): void {
    const stream = this.stream
    if (stream === null || stream.destroyed) return
    const t = this.outTrailers
    this.outTrailers = null
    try {
      stream.sendTrailers(t ?? {})
    } catch {
      this.reset(NGHTTP2_INTERNAL_ERROR)
    }
  }

  /** RST_STREAM from lb. */
  reset(code: number): void {
    const stream = this.stream
    this.resetByUs = true
    if (stream !== null && !stream.closed && !stream.destroyed) stream.close(code)
  }

  recycle(): void {
    if (!this.exDone || !this.closed || this.stream === null) return
    const s = this.stream as LbStream
    s.removeListener('close', onClose)
    s.removeListener('error', onError)
    s.removeListener('drain', onDrain)
    s.removeListener('wantTrailers', onWantTrailers)
    s.removeListener('data', onData)
    s.removeListener('trailers', onTrailers)
    s.removeListener('end', onEnd)
    this.stream = null
    this.session.free(this)
  }

  // -- ClientSide ------------------------------------------------------------------------------------------

  sendContinue(): void {
    const stream = this.stream
    if (stream !== null && !stream.closed && !stream.destroyed && !stream.headersSent)
      stream.additionalHeaders({ ':status': 100 })
  }

  sendHead(
    status: number,
    _reason: string,
    headers: readonly string[],
    hsts: string,
    te: string,
    _toClose: boolean,
    _more: boolean,
  ): boolean {
    const stream = this.stream
    if (stream === null || stream.closed || stream.destroyed) return true
    const out: OutgoingHttpHeaders = { ':status': status }
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = (headers[i] as string).toLowerCase()
      if (RESPONSE_HOP.has(name)) continue
      if (hsts !== '' && name === 'strict-transport-security') continue
      addField(out, name, headers[i + 1] as string)
    }
    if (hsts !== '') out['strict-transport-security'] = hsts
    this.addRequestId(out)
    const method = this.head.method
    const noBody = method === 'HEAD' || status === 204 || status === 304
    try {
      // A body of unknown length may end with trailers from the server.
      stream.respond(out, { endStream: noBody, waitForTrailers: !noBody && te !== '' })
    } catch {
      this.reset(NGHTTP2_INTERNAL_ERROR)
    }
    return true
  }

  sendData(data: Buffer): boolean {
    const stream = this.stream
    if (stream === null || stream.closed || stream.destroyed || stream.writableEnded) return true
    return stream.write(data)
  }

  sendEnd(trailers: string): boolean {
    const stream = this.stream
    if (stream === null || stream.closed || stream.destroyed || stream.writableEnded) return true
    if (trailers !== '') this.outTrailers = trailerFields(trailers)
    stream.end()
    return true
  }

  sendLocal(
    status: number,
    body: string,
    contentType: string,
    location: string | null,
    challenge: string,
  ): boolean {
    const stream = this.stream
    if (stream === null || stream.closed || stream.destroyed || stream.headersSent) return true
    const out: OutgoingHttpHeaders = {
      ':status': status,
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'x-content-type-options': 'nosniff',
    }
    if (location !== null) out.location = location
    if (challenge !== '') out['www-authenticate'] = challenge
    this.addRequestId(out)
    const noBody = this.head.method === 'HEAD' || status === 204 || status === 304
    try {
      stream.respond(out, { endStream: noBody })
      if (!noBody) stream.end(body)
    } catch {
      this.reset(NGHTTP2_INTERNAL_ERROR)
    }
    return true
  }

  /** Never called: an HTTP/2 request is never an Upgrade (the field is refused). */
  switchProtocols(
    _origin: TunnelOrigin,
    _reason: string,
    _headers: readonly string[],
    _upgrade: string,
    server: Socket,
    _rest: Buffer | null,
  ): void {
    server.destroy()
    this.reset(NGHTTP2_INTERNAL_ERROR)
  }

  hold(): void {
    this.stream?.pause()
  }

  unhold(): void {
    this.stream?.resume()
  }

  awaitDrain(): void {
    this.session.ctx.deadlines.arm(this.deadline, this.session.ctx.timeouts.client, 1)
  }

  destroy(): void {
    this.reset(NGHTTP2_INTERNAL_ERROR)
  }

  requestDone(): void {
    this.exDone = true
    this.session.ctx.deadlines.disarm(this.deadline)
    const stream = this.stream
    // A body still arriving after the answer is read and dropped (its window keeps being updated).
    if (stream !== null && !this.bodyDone) {
      this.bodyDone = true
      stream.resume()
    }
    this.recycle()
  }

  addRequestId(out: OutgoingHttpHeaders): void {
    const rid = this.ex.requestId
    if (rid !== '') out[this.session.ctx.requestIdHeader] = rid
  }
}

/** A response field: repeated ones become a list (set-cookie), as node:http2 sends them. */
function addField(out: OutgoingHttpHeaders, name: string, value: string): void {
  const had = out[name]
  if (had === undefined) out[name] = value
  else if (Array.isArray(had)) had.push(value)
  else if (name === 'set-cookie') out[name] = [had as string, value]
  else out[name] = `${had as string}, ${value}`
}

/** Trailer lines from the server as HTTP/2 trailer fields (framing and hop-by-hop fields dropped). */
function trailerFields(trailers: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  const lines = trailers.split('\r\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    if (notATrailer(name)) continue
    addField(out, name, line.slice(colon + 1).trim())
  }
  return out
}

/**
 * Fill `head` from the stream's raw header list (lower-case names, pseudo-fields first, as node:http2 gives
 * them). Returns '' or why the request is malformed.
 */
export function mapRequest(
  raw: readonly string[],
  head: RequestHead,
  endStream: boolean,
  maxSize: number,
): string {
  let method = ''
  let path = ''
  let authority: string | undefined
  let host: string | undefined
  let cookie: string | undefined
  let contentLength = -1
  const headers: string[] = []
  // The header list size as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113 §6.5.2).
  let size = 0
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    size += name.length + value.length + 32
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':method') method = value
      else if (name === ':path') path = value
      else if (name === ':authority') authority = value
      else if (name !== ':scheme') return `pseudo-header ${name}`
      continue
    }
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`
    switch (name) {
      case 'te':
        if (value.trim().toLowerCase() !== 'trailers') return 'te other than trailers'
        continue
      case 'host':
        if (host !== undefined) return 'more than one host'
        host = value
        continue
      case 'cookie':
        cookie = cookie === undefined ? value : cookie + '; ' + value
        continue
      case 'content-length': {
        if (contentLength >= 0 || !/^[0-9]{1,15}$/.test(value)) return 'invalid content-length'
        contentLength = Number(value)
        break
      }
      case 'expect':
        if (value.toLowerCase() === '100-continue') head.expectContinue = true
        continue
    }
    headers.push(name, value)
  }
  if (size > maxSize) return TOO_LARGE
  if (authority !== undefined && host !== undefined && authority !== host) return ':authority and host differ'
  const routed = authority ?? host
  if (routed !== undefined) {
    headers.unshift('host', routed)
    head.host = routed
    head.hostCount = 1
  }
  if (cookie !== undefined) headers.push('cookie', cookie)
  head.method = method
  // CONNECT has only :authority: as an HTTP/1.1 CONNECT's authority-form target, the request path refuses it.
  head.target = method === 'CONNECT' ? (authority ?? '') : path
  head.headers = headers
  head.minor = 1
  if (endStream) {
    head.contentLength = contentLength
  } else if (contentLength >= 0) {
    head.contentLength = contentLength
  } else {
    // A body of unknown length: chunked to the server.
    head.chunked = true
  }
  return ''
}

function onData(this: LbStream, chunk: Buffer): void {
  this[kStream].onData(chunk)
}

function onTrailers(this: LbStream, headers: IncomingHttpHeaders): void {
  this[kStream].onTrailers(headers)
}

function onEnd(this: LbStream): void {
  this[kStream].onEnd()
}

function onClose(this: LbStream): void {
  this[kStream].onClose()
}

function onError(): void {
  // 'close' follows.
}

function onDrain(this: LbStream): void {
  this[kStream].onDrain()
}

function onWantTrailers(this: LbStream): void {
  this[kStream].onWantTrailers()
}
