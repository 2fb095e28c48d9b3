/**
 * HTTP/1.1 message heads, parsed strictly (RFC 9112), for both sides of the proxy and for the answers of lb's
 * Consul client (src/provider/consul/sink.ts; chunked bodies: chunked.ts). Pure: no sockets, no timers.
 *
 * A head is parsed once it is complete (the caller finds its end with `headEnd`), from one latin1 string of its
 * bytes: the request or status line, then one header line at a time. Everything the proxy's framing depends on
 * is decided here, once, and anything ambiguous is an error rather than a guess:
 * - line ends are CRLF only (a bare CR or LF anywhere is an error), no obs-fold, no whitespace before a colon,
 *   header names are tokens, values have no control characters but HTAB;
 * - `Content-Length` is digits only and appears once; with `Transfer-Encoding` as well it is an error;
 * - a request's `Transfer-Encoding` must be exactly `chunked` (another coding before it is 501, one after it or
 *   none at all is 400, as are empty list members); HTTP/1.0 requests may not use it;
 * - a request is HTTP/1.0 or HTTP/1.1 (1.1 with a Host); a response is HTTP/1.0 or HTTP/1.1 with a three-digit
 *   status.
 *
 * Errors carry the status the client gets (requests) or just a reason (responses: the proxy answers 502).
 */

/** RFC 9110 tchar. */
const TCHAR = new Uint8Array(256)
for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[ch.charCodeAt(0)] = 1
}

/** Field-value octets: HTAB, SP, VCHAR, obs-text. */
export const VALUE = new Uint8Array(256)
VALUE[9] = 1
for (let c = 32; c < 256; c++) if (c !== 127) VALUE[c] = 1

/** Request-target octets: VCHAR and obs-text (no SP, no control characters). */
const TARGET = new Uint8Array(256)
for (let c = 33; c < 256; c++) if (c !== 127) TARGET[c] = 1

/** Method octets (nginx's rule): upper-case letters, '_' and '-'. */
const METHOD = new Uint8Array(256)
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_-') METHOD[ch.charCodeAt(0)] = 1

/** Header lines per message above which the message is refused (431 for requests). */
export const MAX_HEADERS = 1000

/** The end of a head, as bytes: searching for a Buffer skips the string needle's conversion on every call. */
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1')

/**
 * Index just past the CRLFCRLF that ends the head starting at `start`, or -1 while it is incomplete.
 * Leading empty lines before a request line are the caller's to skip (`skipEmptyLines`).
 */
export function headEnd(buf: Buffer, start: number): number {
  const i = buf.indexOf(CRLFCRLF, start)
  return i < 0 ? -1 : i + 4
}

/**
 * Whether the incomplete head in `buf[start, end)` already has a line end other than CRLF (a bare LF), so it can
 * be refused now instead of waiting for a CRLFCRLF that a client using bare LFs never sends.
 */
export function hasBareLf(buf: Buffer, start: number, end: number): boolean {
  for (let i = buf.indexOf(10, start); i >= 0 && i < end; i = buf.indexOf(10, i + 1)) {
    if (i === start || buf[i - 1] !== 13) return true
  }
  return false
}

/** Index of the first byte that is not part of a CRLF pair at `start` (RFC 9112 §2.2: ignore them). */
export function skipEmptyLines(buf: Buffer, start: number, end: number): number {
  let i = start
  while (i + 1 < end && buf[i] === 13 && buf[i + 1] === 10) i += 2
  return i
}

/** Header names the framing reads, by lower-case spelling. */
const H_OTHER = 0
const H_HOST = 1
const H_CONTENT_LENGTH = 2
const H_TRANSFER_ENCODING = 3
const H_CONNECTION = 4
const H_UPGRADE = 5
const H_EXPECT = 6

/** ASCII case-insensitive comparison of `s[start, start + lower.length)` with the lower-case `lower`. */
function equalsAt(s: string, start: number, lower: string): boolean {
  const n = lower.length
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(start + i)
    if (c >= 65 && c <= 90) c += 32
    if (c !== lower.charCodeAt(i)) return false
  }
  return true
}

function headerKind(s: string, start: number, len: number): number {
  switch (len) {
    case 4:
      return equalsAt(s, start, 'host') ? H_HOST : H_OTHER
    case 6:
      return equalsAt(s, start, 'expect') ? H_EXPECT : H_OTHER
    case 7:
      return equalsAt(s, start, 'upgrade') ? H_UPGRADE : H_OTHER
    case 10:
      return equalsAt(s, start, 'connection') ? H_CONNECTION : H_OTHER
    case 14:
      return equalsAt(s, start, 'content-length') ? H_CONTENT_LENGTH : H_OTHER
    case 17:
      return equalsAt(s, start, 'transfer-encoding') ? H_TRANSFER_ENCODING : H_OTHER
    default:
      return H_OTHER
  }
}

/** Common methods as constants, so a request does not allocate its method string. */
function internMethod(s: string, end: number): string {
  switch (end) {
    case 3:
      if (s.startsWith('GET')) return 'GET'
      if (s.startsWith('PUT')) return 'PUT'
      break
    case 4:
      if (s.startsWith('POST')) return 'POST'
      if (s.startsWith('HEAD')) return 'HEAD'
      break
    case 5:
      if (s.startsWith('PATCH')) return 'PATCH'
      break
    case 6:
      if (s.startsWith('DELETE')) return 'DELETE'
      break
    case 7:
      if (s.startsWith('OPTIONS')) return 'OPTIONS'
      break
  }
  return s.slice(0, end)
}

/** Framing facts shared by request and response heads. */
class Framing {
  /** Header lines as received, flat: [name, value, …] (names keep their case; values trimmed of OWS). */
  headers: string[]
  /** Declared body length; -1 = no Content-Length. */
  contentLength: number
  /** Transfer-Encoding ends in `chunked`. */
  chunked: boolean
  /** Transfer-Encoding value as received (joined when repeated); '' = none. */
  transferEncoding: string
  /** Connection has `close` (or HTTP/1.0 without `keep-alive`): the connection ends after this message. */
  close: boolean
  /** Connection lists `upgrade`. */
  connectionUpgrade: boolean
  /** Connection lists `keep-alive` (what keeps an HTTP/1.0 connection open). */
  keepAliveToken: boolean
  /** The Upgrade header's value ('' = none). */
  upgrade: string
  /** HTTP/1.x minor version. */
  minor: number
  /** Why the head was refused ('' = it was not). */
  error: string

  constructor() {
    this.headers = []
    this.contentLength = -1
    this.chunked = false
    this.transferEncoding = ''
    this.close = false
    this.connectionUpgrade = false
    this.keepAliveToken = false
    this.upgrade = ''
    this.minor = 1
    this.error = ''
  }

  reset(): void {
    this.headers = []
    this.contentLength = -1
    this.chunked = false
    this.transferEncoding = ''
    this.close = false
    this.connectionUpgrade = false
    this.keepAliveToken = false
    this.upgrade = ''
    this.minor = 1
    this.error = ''
  }
}

export class RequestHead extends Framing {
  method: string
  /** The request-target exactly as sent. */
  target: string
  /** The Host header's value (undefined = none); `hostCount` says how many there were. */
  host: string | undefined
  hostCount: number
  /** `Expect: 100-continue`. */
  expectContinue: boolean
  /** Length of the head in bytes (request line + headers + final CRLF). */
  length: number
  /** The request came as an HTTP/2 stream (h2/stream.ts fills the head from its fields; `minor` is then 1). */
  h2: boolean

  constructor() {
    super()
    this.method = ''
    this.target = ''
    this.host = undefined
    this.hostCount = 0
    this.expectContinue = false
    this.length = 0
    this.h2 = false
  }

  override reset(): void {
    super.reset()
    this.method = ''
    this.target = ''
    this.host = undefined
    this.hostCount = 0
    this.expectContinue = false
    this.length = 0
    this.h2 = false
  }
}

export class ResponseHead extends Framing {
  status: number
  /** Reason phrase as sent ('' when absent). */
  reason: string
  /** Keep-alive: the connection may carry another request after this response. */
  keepAlive: boolean

  constructor() {
    super()
    this.status = 0
    this.reason = ''
    this.keepAlive = true
  }

  override reset(): void {
    super.reset()
    this.status = 0
    this.reason = ''
    this.keepAlive = true
  }
}

/**
 * Reads the header lines of `s` from `pos` (each ends with CRLF; `s` ends with the last one) into `into`.
 * Returns false with `into.error` set when a line is malformed or there are too many.
 */
function parseHeaderLines(s: string, pos: number, into: Framing, onHost: RequestHead | null): boolean {
  const n = s.length
  const headers = into.headers
  let count = 0
  let te = ''
  let sawTe = false
  while (pos < n) {
    const eol = s.indexOf('\r\n', pos)
    if (eol < 0) {
      into.error = 'header line without CRLF'
      return false
    }
    if (++count > MAX_HEADERS) {
      into.error = 'too many header lines'
      return false
    }
    let i = pos
    while (i < eol && TCHAR[s.charCodeAt(i)] === 1) i++
    if (i === pos) {
      into.error =
        s.charCodeAt(pos) === 32 || s.charCodeAt(pos) === 9 ? 'obsolete line folding' : 'invalid header name'
      return false
    }
    if (i === eol || s.charCodeAt(i) !== 58 /* : */) {
      into.error = 'invalid header name'
      return false
    }
    const nameEnd = i
    i++
    while (i < eol && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++
    const vStart = i
    for (; i < eol; i++) {
      if (VALUE[s.charCodeAt(i)] !== 1) {
        into.error = 'invalid character in a header value'
        return false
      }
    }
    let vEnd = eol
    while (vEnd > vStart && (s.charCodeAt(vEnd - 1) === 32 || s.charCodeAt(vEnd - 1) === 9)) vEnd--
    const name = s.slice(pos, nameEnd)
    const value = s.slice(vStart, vEnd)
    headers.push(name, value)
    switch (headerKind(s, pos, nameEnd - pos)) {
      case H_HOST:
        if (onHost !== null) {
          if (onHost.hostCount === 0) onHost.host = value
          onHost.hostCount++
        }
        break
      case H_CONTENT_LENGTH: {
        if (into.contentLength >= 0) {
          into.error = 'more than one Content-Length'
          return false
        }
        const cl = parseLength(value)
        if (cl < 0) {
          into.error = 'invalid Content-Length'
          return false
        }
        into.contentLength = cl
        break
      }
      case H_TRANSFER_ENCODING:
        te = sawTe ? `${te},${value}` : value
        sawTe = true
        break
      case H_CONNECTION:
        connectionTokens(value, into)
        break
      case H_UPGRADE:
        into.upgrade = into.upgrade === '' ? value : `${into.upgrade}, ${value}`
        break
      case H_EXPECT:
        if (onHost !== null) {
          if (value.length === 12 && equalsAt(value, 0, '100-continue')) onHost.expectContinue = true
          else {
            into.error = 'unsupported expectation'
            return false
          }
        }
        break
    }
    pos = eol + 2
  }
  if (sawTe) {
    into.transferEncoding = te
    if (into.contentLength >= 0) {
      into.error = 'both Content-Length and Transfer-Encoding'
      return false
    }
  }
  return true
}

/** Content-Length value: 1 to 15 digits (up to 999 TB); -1 when anything else. */
function parseLength(v: string): number {
  const n = v.length
  if (n === 0 || n > 15) return -1
  let x = 0
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    x = x * 10 + c
  }
  return x
}

/** Sets `close`, `connectionUpgrade` and `keepAliveToken` from a Connection header value. */
function connectionTokens(v: string, into: Framing): void {
  const n = v.length
  let i = 0
  while (i < n) {
    let c = v.charCodeAt(i)
    if (c === 44 || c === 32 || c === 9) {
      i++
      continue
    }
    const start = i
    while (i < n) {
      c = v.charCodeAt(i)
      if (c === 44) break
      i++
    }
    let end = i
    while (end > start && (v.charCodeAt(end - 1) === 32 || v.charCodeAt(end - 1) === 9)) end--
    const len = end - start
    if (len === 5 && equalsAt(v, start, 'close')) into.close = true
    else if (len === 7 && equalsAt(v, start, 'upgrade')) into.connectionUpgrade = true
    else if (len === 10 && equalsAt(v, start, 'keep-alive')) into.keepAliveToken = true
  }
}

/**
 * The transfer codings of a Transfer-Encoding value: 0 = exactly `chunked`; 501 = other codings before a final
 * `chunked`; 400 = anything else (not ending in chunked, empty members, `chunked` twice, not a token list).
 */
export function transferCodings(te: string): number {
  const n = te.length
  let i = 0
  let members = 0
  let chunkedAt = -1
  for (;;) {
    while (i < n && (te.charCodeAt(i) === 32 || te.charCodeAt(i) === 9)) i++
    const start = i
    while (i < n && te.charCodeAt(i) !== 44) i++
    let end = i
    while (end > start && (te.charCodeAt(end - 1) === 32 || te.charCodeAt(end - 1) === 9)) end--
    if (end === start) return 400
    // A coding is a token, optionally with parameters (`gzip;q=1` is not valid in TE but harmless to refuse).
    for (let k = start; k < end; k++) if (TCHAR[te.charCodeAt(k)] !== 1) return 400
    const isChunked = end - start === 7 && equalsAt(te, start, 'chunked')
    if (isChunked) {
      if (chunkedAt >= 0) return 400
      chunkedAt = members
    }
    members++
    if (i >= n) break
    i++
  }
  if (chunkedAt !== members - 1) return 400
  return members === 1 ? 0 : 501
}

/**
 * Parses a complete request head, `buf[start, end)` where `end` is `headEnd`'s result. Returns 0 when it is
 * acceptable, else the status to answer with (400, 431, 501, 417), `into.error` saying why.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number, into: RequestHead): number {
  into.reset()
  into.length = end - start
  // The head as one string, without the final empty line.
  const s = buf.toString('latin1', start, end - 2)
  const eol = s.indexOf('\r\n')
  let i = 0
  while (i < eol && METHOD[s.charCodeAt(i)] === 1) i++
  if (i === 0 || i > 32 || s.charCodeAt(i) !== 32) return refuse(into, 'invalid method', 400)
  into.method = internMethod(s, i)
  while (s.charCodeAt(i) === 32) i++
  const tStart = i
  while (i < eol && TARGET[s.charCodeAt(i)] === 1) i++
  if (i === tStart || s.charCodeAt(i) !== 32) return refuse(into, 'invalid request target', 400)
  into.target = s.slice(tStart, i)
  while (s.charCodeAt(i) === 32) i++
  if (eol - i !== 8 || !s.startsWith('HTTP/1.', i)) return refuse(into, 'unsupported HTTP version', 400)
  const minor = s.charCodeAt(i + 7) - 48
  if (minor !== 0 && minor !== 1) return refuse(into, 'unsupported HTTP version', 400)
  into.minor = minor
  if (!parseHeaderLines(s, eol + 2, into, into)) {
    return into.error === 'too many header lines' ? 431 : into.error === 'unsupported expectation' ? 417 : 400
  }
  if (minor === 1 && into.hostCount === 0) return refuse(into, 'HTTP/1.1 request without Host', 400)
  if (into.transferEncoding !== '') {
    if (minor === 0) return refuse(into, 'Transfer-Encoding in an HTTP/1.0 request', 400)
    const codings = transferCodings(into.transferEncoding)
    if (codings !== 0)
      return refuse(
        into,
        codings === 501 ? 'unsupported transfer coding' : 'Transfer-Encoding must end in chunked',
        codings,
      )
    into.chunked = true
  }
  if (minor === 0 && !into.keepAliveToken) into.close = true
  return 0
}

function refuse(into: Framing, why: string, status: number): number {
  into.error = why
  return status
}

/**
 * Parses a complete response head `buf[start, end)`. `head` (the request was HEAD) and the status decide whether
 * a body follows. Returns false with `into.error` set when the response is not acceptable.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, into: ResponseHead): boolean {
  into.reset()
  const s = buf.toString('latin1', start, end - 2)
  const eol = s.indexOf('\r\n')
  if (eol < 12 || !s.startsWith('HTTP/1.')) return fail(into, 'invalid status line')
  const minor = s.charCodeAt(7) - 48
  if ((minor !== 0 && minor !== 1) || s.charCodeAt(8) !== 32) return fail(into, 'invalid status line')
  const d0 = s.charCodeAt(9) - 48
  const d1 = s.charCodeAt(10) - 48
  const d2 = s.charCodeAt(11) - 48
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return fail(into, 'invalid status code')
  into.status = d0 * 100 + d1 * 10 + d2
  into.minor = minor
  if (eol > 12) {
    if (s.charCodeAt(12) !== 32) return fail(into, 'invalid status line')
    for (let i = 13; i < eol; i++)
      if (VALUE[s.charCodeAt(i)] !== 1) return fail(into, 'invalid reason phrase')
    into.reason = s.slice(13, eol)
  }
  if (!parseHeaderLines(s, eol + 2, into, null)) return false
  if (into.transferEncoding !== '') into.chunked = endsWithChunked(into.transferEncoding)
  into.keepAlive = minor === 1 ? !into.close : into.keepAliveToken && !into.close
  return true
}

function fail(into: Framing, why: string): boolean {
  into.error = why
  return false
}

/** Whether the last member of a Transfer-Encoding value is `chunked` (responses: else the body ends at close). */
function endsWithChunked(te: string): boolean {
  let end = te.length
  while (end > 0 && (te.charCodeAt(end - 1) === 32 || te.charCodeAt(end - 1) === 9)) end--
  return end >= 7 && equalsAt(te, end - 7, 'chunked') && (end === 7 || !isTchar(te.charCodeAt(end - 8)))
}

function isTchar(c: number): boolean {
  return TCHAR[c] === 1
}

const trailerCheck = new Framing()

/** Trailer field lines (each ending in CRLF) are well-formed header fields. */
export function validTrailers(fields: string): boolean {
  trailerCheck.reset()
  return parseHeaderLines(fields, 0, trailerCheck, null)
}
