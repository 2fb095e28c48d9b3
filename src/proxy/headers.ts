/**
 * Header rewriting between the client and the upstream (pure; runs once per request and once per response).
 *
 * Input is the flat header list of a parsed head (src/net/h1/parse.ts: [name, value, name, value, …], original
 * case); output is a new flat array the exchange writes after its request or status line. Each name is
 * lower-cased once and classified with one `Map.get`; everything lb does not care about is copied through
 * in order with its original case. Headers named in `Connection` are removed by a second pass over the
 * output, which only runs when such a header actually lists a custom name (rare).
 *
 * Measured, not adopted: a bounded memo `name → lower-case name` to skip `toLowerCase`. With fresh strings
 * per request (as a parser produces them) hashing the name for the memo costs about what lower-casing
 * does (A/B over fresh strings, 15 headers incl. decoding: 4.40 vs 4.45 µs min on a loaded 2-core box;
 * reusing one array, as the plain bench rows do, flatters the memo), so plain `toLowerCase` stays.
 *
 * `connection`, `keep-alive`, `upgrade`, `expect` and `transfer-encoding` never appear in the output: the
 * exchange writes its own framing and, for an Upgrade, its own `Connection: upgrade` and `Upgrade` lines;
 * `Expect: 100-continue` is answered by the exchange.
 */

import { randomUUID } from 'node:crypto'
import type { CidrSet } from '../net/cidr.js'
import { ipFamily, unmapIPv4 } from '../net/cidr.js'
import { portStart } from '../route/host.js'

export interface ForwardContext {
  /** Socket peer IP as Node reports it (IPv4-mapped IPv6 allowed). */
  remoteAddress: string
  /**
   * The real client IP: `clientAddress(remoteAddress, xff, trustedProxies)`. Used for X-Real-IP when a
   * trusted peer did not send one; equal to `remoteAddress` when the peer is not trusted.
   */
  clientAddress: string
  /** Peer is in http.trusted_proxies. */
  trusted: boolean
  /** Scheme of the listener the client used. */
  proto: 'http' | 'https'
  /** Listener port (kept for callers; X-Forwarded-Port comes from the Host header, as in fabio). */
  localPort: number
  /** The request's HTTP version as Node reports it (`1.1`, `1.0`): `httpproto=http/1.1` in Forwarded. */
  httpVersion: string
  /** A WebSocket upgrade: Forwarded says `proto=ws` (`wss` over TLS), X-Forwarded-Proto stays http(s). */
  websocket: boolean
  /** Extra header set to the client IP (fabio `proxy.header.clientip`, e.g. `X-Client-Ip`); '' = none. */
  clientIpHeader: string
  /** The same name in lower case (to drop a client-sent one). */
  clientIpLower: string
  /** `by=` in Forwarded (fabio `proxy.localip`); '' = none. */
  forwardedBy: string
  /** '' = keep the client's Host, otherwise the literal value to send as Host. */
  hostHeader: string
  /** Strip prefix applied ('' = none) → X-Forwarded-Prefix. */
  prefix: string
  /** Lower-case header name, '' = off. */
  requestIdHeader: string
  /** Value to send ('' when off). */
  requestId: string
  /** Lower-case names of every listener's `tls.client_header`: never taken from a client, trusted or not. */
  certHeaders: ReadonlySet<string>
  /** This connection's client-certificate header (client-cert.ts `clientCertInto`) and value; '' = none. */
  certHeader: string
  certValue: string
}

/** A `{ has }` view shared by the request-kind `Map` and the response hop-by-hop `Set`. */
interface NameSet {
  has(lowerName: string): boolean
}

// Request header classes. Anything not in REQUEST_KINDS passes through.
const K_HOP = 1
const K_CONNECTION = 2
const K_HOST = 3
const K_XFF = 4
const K_XFPROTO = 5
const K_XFHOST = 6
const K_XFPORT = 7
const K_XFPREFIX = 8
const K_XREALIP = 9
const K_FORWARDED = 10

/**
 * Every lower-case request header name lb treats specially. Names here can never be removed through the
 * client's `Connection` header: hop-by-hop ones are removed anyway, and the rest are set by lb (the fabio
 * 1.6.6 `Connection: X-Forwarded-For` fix). The request-id header is protected the same way.
 */
const REQUEST_KINDS: ReadonlyMap<string, number> = new Map([
  ['connection', K_CONNECTION],
  ['keep-alive', K_HOP],
  ['proxy-connection', K_HOP],
  ['te', K_HOP],
  ['trailer', K_HOP],
  ['transfer-encoding', K_HOP],
  ['upgrade', K_HOP],
  ['expect', K_HOP],
  ['proxy-authenticate', K_HOP],
  ['proxy-authorization', K_HOP],
  ['http2-settings', K_HOP],
  ['host', K_HOST],
  ['x-forwarded-for', K_XFF],
  ['x-forwarded-proto', K_XFPROTO],
  ['x-forwarded-host', K_XFHOST],
  ['x-forwarded-port', K_XFPORT],
  ['x-forwarded-prefix', K_XFPREFIX],
  ['x-real-ip', K_XREALIP],
  ['forwarded', K_FORWARDED],
])

/** Lower-case hop-by-hop response header names (`connection` included: it is parsed, then dropped). */
export const RESPONSE_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'te',
])

/**
 * Adds the lower-case names listed in a Connection header value to `acc` (created on first use), skipping
 * `close`, names in `skip` and `extra`. Allocates only for listed custom names.
 */
function connectionTokens(
  value: string,
  skip: NameSet,
  extra: string,
  acc: string[] | null,
): string[] | null {
  const len = value.length
  let i = 0
  while (i < len) {
    const c = value.charCodeAt(i)
    if (c === 44 || c === 32 || c === 9) {
      i++
      continue
    }
    let j = i + 1
    while (j < len && value.charCodeAt(j) !== 44) j++
    let e = j
    while (e > i && (value.charCodeAt(e - 1) === 32 || value.charCodeAt(e - 1) === 9)) e--
    const token = value.slice(i, e).toLowerCase()
    i = j + 1
    if (token === 'close' || token === extra || skip.has(token)) continue
    if (acc === null) acc = [token]
    else acc.push(token)
  }
  return acc
}

/** Removes, in place, every pair of the flat array `out` whose lower-cased name is in `names`. */
function removeNamed(out: string[], names: readonly string[]): void {
  let j = 0
  for (let i = 0; i < out.length; i += 2) {
    const name = out[i] ?? ''
    if (names.includes(name.toLowerCase())) continue
    out[j] = name
    out[j + 1] = out[i + 1] ?? ''
    j += 2
  }
  out.length = j
}

/** RFC 7230 tchar, as a 128-entry lookup table. */
const TCHAR = new Uint8Array(128)
for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[ch.charCodeAt(0)] = 1
}

/** RFC 7239 value: a token as is, anything else as a quoted-string with `"` and `\` escaped. */
function forwardedValue(v: string): string {
  let plain = v.length > 0
  let escape = false
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    if (c >= 128 || TCHAR[c] !== 1) {
      plain = false
      if (c === 34 || c === 92) escape = true
    }
  }
  if (plain) return v
  return escape ? `"${v.replace(/["\\]/g, '\\$&')}"` : `"${v}"`
}

/**
 * Our Forwarded element in fabio's form: `for=<peer>; proto=<scheme>; httpproto=http/<version>` (an IPv6 peer
 * quoted as RFC 7239 §6 requires: `for="[::1]"`).
 */
function forwardedElement(peer: string, proto: string, by: string, httpVersion: string): string {
  const forPart = peer.includes(':') ? `for="[${peer}]"` : `for=${forwardedValue(peer)}`
  const byPart = by === '' ? '' : by.includes(':') ? `; by="[${by}]"` : `; by=${forwardedValue(by)}`
  return `${forPart}; proto=${forwardedValue(proto)}${byPart}; httpproto=http/${httpVersion}`
}

/** The first `proto=` parameter of a Forwarded value ('' when none), quotes removed. */
export function forwardedProtoParam(value: string): string {
  const m = FORWARDED_PROTO.exec(value)
  if (m === null) return ''
  const v = (m[1] as string).trim()
  return v.length >= 2 && v.charCodeAt(0) === 34 ? v.slice(1, -1) : v
}
/** `proto=` as a parameter of its own (not the end of `httpproto=`), up to the next `;` or `,` (fabio). */
const FORWARDED_PROTO = /(?:^|[;,\s])proto=("[^"]*"|[^;,]*)/i

/**
 * The scheme a trusted proxy says the client used (fabio `scheme()`): X-Forwarded-Proto when only it is sent,
 * the `proto=` of Forwarded when only that is sent, else ''. For the redirect-loop guard (route/table.ts
 * `lookupHttp`); call it for trusted peers only.
 */
export function forwardedProto(raw: readonly string[]): string {
  const xfp = findHeader(raw, 'x-forwarded-proto')
  const fwd = findHeader(raw, 'forwarded')
  if (xfp !== undefined && xfp !== '' && (fwd === undefined || fwd === '')) return xfp
  if (fwd !== undefined && fwd !== '' && (xfp === undefined || xfp === '')) return forwardedProtoParam(fwd)
  return ''
}

/** X-Forwarded-Port as fabio derives it: the Host header's port, else 443 over TLS and 80 otherwise. */
export function forwardedPort(host: string, proto: 'http' | 'https'): string {
  const at = portStart(host)
  return at < host.length - 1 ? host.slice(at + 1) : proto === 'https' ? '443' : '80'
}

/**
 * The flat header list to send upstream. Never throws; an odd trailing element in `raw` is ignored.
 *
 * Addresses lb writes (X-Forwarded-For, X-Real-IP, Forwarded) use the dotted form for IPv4-mapped peers
 * (`::ffff:10.0.0.1` → `10.0.0.1`), as a plain IPv4 listener would have reported them.
 */
export function buildUpstreamHeaders(raw: readonly string[], ctx: ForwardContext): string[] {
  const out: string[] = []
  const trusted = ctx.trusted
  const rid = ctx.requestIdHeader
  const cip = ctx.clientIpLower
  const certHeaders = ctx.certHeaders
  const anyCert = certHeaders.size > 0
  const hostOverride = ctx.hostHeader
  const stripPrefix = ctx.prefix !== ''
  let clientHost = ''
  let sawHost = false
  let xff = ''
  let forwarded = ''
  let keptProto = false
  let protoValue = ''
  let keptHost = false
  let keptPort = false
  let keptRealIp = false
  let drop: string[] | null = null
  const n = raw.length - (raw.length & 1)
  for (let i = 0; i < n; i += 2) {
    const name = raw[i] ?? ''
    const value = raw[i + 1] ?? ''
    const lower = name.toLowerCase()
    if (lower === rid || (cip !== '' && lower === cip) || (anyCert && certHeaders.has(lower))) continue
    const kind = REQUEST_KINDS.get(lower)
    if (kind === undefined) {
      out.push(name, value)
      continue
    }
    switch (kind) {
      case K_CONNECTION:
        drop = connectionTokens(value, REQUEST_KINDS, rid, drop)
        break
      case K_HOST:
        // Exactly one Host: the first one wins (Node's req.headers.host does the same).
        if (!sawHost) {
          sawHost = true
          clientHost = value
          out.push(name, hostOverride === '' ? value : hostOverride)
        }
        break
      case K_XFF:
        if (trusted && value !== '') xff = xff === '' ? value : `${xff}, ${value}`
        break
      case K_FORWARDED:
        if (trusted && value !== '') forwarded = forwarded === '' ? value : `${forwarded}, ${value}`
        break
      case K_XFPROTO:
        if (trusted) {
          keptProto = true
          if (protoValue === '') protoValue = value
          out.push(name, value)
        }
        break
      case K_XFHOST:
        if (trusted) {
          keptHost = true
          out.push(name, value)
        }
        break
      case K_XFPORT:
        if (trusted) {
          keptPort = true
          out.push(name, value)
        }
        break
      case K_XFPREFIX:
        if (trusted && !stripPrefix) out.push(name, value)
        break
      case K_XREALIP:
        if (trusted) {
          keptRealIp = true
          out.push(name, value)
        }
        break
      default:
        // K_HOP: dropped.
        break
    }
  }
  if (drop !== null) removeNamed(out, drop)

  if (!sawHost && hostOverride !== '') out.push('Host', hostOverride)
  const peer = unmapIPv4(ctx.remoteAddress)
  out.push('X-Forwarded-For', xff === '' ? peer : `${xff}, ${peer}`)
  if (!keptRealIp) out.push('X-Real-IP', trusted ? unmapIPv4(ctx.clientAddress) : peer)
  if (ctx.clientIpHeader !== '') out.push(ctx.clientIpHeader, trusted ? unmapIPv4(ctx.clientAddress) : peer)
  // The scheme (fabio `scheme()`): a trusted X-Forwarded-Proto alone, or a trusted Forwarded `proto=` alone
  // (which then also becomes X-Forwarded-Proto), else the connection's (ws/wss for WebSocket upgrades).
  let scheme: string = ctx.websocket ? (ctx.proto === 'https' ? 'wss' : 'ws') : ctx.proto
  if (keptProto && protoValue !== '' && forwarded === '') scheme = protoValue
  else if (!keptProto && forwarded !== '') {
    const p = forwardedProtoParam(forwarded)
    if (p !== '') {
      scheme = p
      keptProto = true
      out.push('X-Forwarded-Proto', p)
    }
  }
  if (!keptProto) out.push('X-Forwarded-Proto', ctx.proto)
  if (!keptHost && clientHost !== '') out.push('X-Forwarded-Host', clientHost)
  if (!keptPort) out.push('X-Forwarded-Port', forwardedPort(clientHost, ctx.proto))
  if (stripPrefix) out.push('X-Forwarded-Prefix', ctx.prefix)
  const element = forwardedElement(peer, scheme, ctx.forwardedBy, ctx.httpVersion)
  out.push('Forwarded', forwarded === '' ? element : `${forwarded}, ${element}`)
  if (rid !== '') out.push(rid, ctx.requestId)
  if (ctx.certValue !== '') out.push(ctx.certHeader, ctx.certValue)
  return out
}

/**
 * The flat header list to send to the client from a response head's headers (strings, or Buffers decoded as
 * latin1). Hop-by-hop headers and the names the response's Connection header lists
 * are dropped; duplicates (set-cookie) are kept in order.
 */
export function filterResponseHeaders(raw: readonly (Buffer | string)[]): string[] {
  const out: string[] = []
  let drop: string[] | null = null
  const n = raw.length - (raw.length & 1)
  for (let i = 0; i < n; i += 2) {
    const rawName = raw[i] ?? ''
    const rawValue = raw[i + 1] ?? ''
    const name = typeof rawName === 'string' ? rawName : rawName.toString('latin1')
    const value = typeof rawValue === 'string' ? rawValue : rawValue.toString('latin1')
    const lower = name.toLowerCase()
    if (RESPONSE_HOP.has(lower)) {
      if (lower === 'connection') drop = connectionTokens(value, RESPONSE_HOP, '', drop)
      continue
    }
    out.push(name, value)
  }
  if (drop !== null) removeNamed(out, drop)
  return out
}

/**
 * The address in the X-Forwarded-For member `s[start, end)`: undefined when the member is blank, '' when it
 * is not an IP address. Accepts `[v6]`, `[v6]:port` and `v4:port` as nginx does.
 */
function xffMember(s: string, start: number, end: number): string | undefined {
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start++
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--
  if (start === end) return undefined
  let addr = s.slice(start, end)
  if (addr.charCodeAt(0) === 91) {
    const close = addr.indexOf(']')
    addr = close < 0 ? '' : addr.slice(1, close)
  } else {
    // A bare IPv6 address has more than one colon and is left alone.
    const colon = addr.indexOf(':')
    if (colon > 0 && addr.indexOf(':', colon + 1) < 0) addr = addr.slice(0, colon)
  }
  return ipFamily(addr) === 0 ? '' : unmapIPv4(addr)
}

/**
 * The real client IP (nginx `real_ip_recursive on` semantics). If the peer is not a trusted proxy it is
 * the client. Otherwise X-Forwarded-For (all values joined with ", ", e.g. by `joinHeader`) is walked right
 * to left, skipping trusted addresses; the first untrusted one is the client. If every member is trusted
 * the leftmost wins. Blank members are skipped; a member that is not an IP address (`unknown`, garbage)
 * stops the walk at the last address reached, as nginx does. IPv4-mapped addresses come back dotted.
 */
export function clientAddress(
  remoteAddress: string,
  xff: string | undefined,
  trustedProxies: CidrSet,
): string {
  let current = unmapIPv4(remoteAddress)
  if (xff === undefined || xff === '' || !trustedProxies.has(remoteAddress)) return current
  let end = xff.length
  while (end > 0) {
    const comma = xff.lastIndexOf(',', end - 1)
    const addr = xffMember(xff, comma + 1, end)
    end = comma < 0 ? 0 : comma
    if (addr === undefined) continue
    if (addr === '') return current
    current = addr
    if (!trustedProxies.has(addr)) return current
  }
  return current
}

/** ASCII case-insensitive equality of `name` with an already lower-case `lower`. */
function equalsLower(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false
  if (name === lower) return true
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i)
    if (c >= 65 && c <= 90) c += 32
    if (c !== lower.charCodeAt(i)) return false
  }
  return true
}

/** First value of the header `lowerName` (lower-case) in a flat raw list, or undefined. No allocation. */
export function findHeader(raw: readonly string[], lowerName: string): string | undefined {
  const n = raw.length - 1
  for (let i = 0; i < n; i += 2) {
    if (equalsLower(raw[i] ?? '', lowerName)) return raw[i + 1]
  }
  return undefined
}

/**
 * Every value of the header `lowerName` joined with ", " (how Node joins X-Forwarded-For in `req.headers`),
 * or undefined when absent. Allocates only when the header repeats.
 */
export function joinHeader(raw: readonly string[], lowerName: string): string | undefined {
  let joined: string | undefined
  const n = raw.length - 1
  for (let i = 0; i < n; i += 2) {
    if (!equalsLower(raw[i] ?? '', lowerName)) continue
    const value = raw[i + 1] ?? ''
    joined = joined === undefined ? value : `${joined}, ${value}`
  }
  return joined
}

/** Whether to forward a client-supplied request id: 1..200 characters of visible ASCII (0x21-0x7e). */
export function acceptRequestId(value: string | undefined): boolean {
  if (value === undefined || value.length === 0 || value.length > 200) return false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 0x21 || c > 0x7e) return false
  }
  return true
}

/**
 * A random (version 4) UUID, as fabio generates request ids. Node's `randomUUID` draws from a cached entropy
 * pool, so most calls make no system call.
 */
export function newRequestId(): string {
  return randomUUID()
}

/** Host characters lb accepts in a reg-name or IPv4 address: ALPHA DIGIT '-' '.' '_' (a 128-entry table). */
const HOST_CHAR = new Uint8Array(128)
for (const ch of '-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') {
  HOST_CHAR[ch.charCodeAt(0)] = 1
}

/**
 * Whether `value` is a Host lb routes on: empty (HTTP/1.1 allows it; the catch-all routes apply), a name or IPv4
 * address of ALPHA DIGIT '-' '.' '_', or `[IPv6]`, each with an optional `:port` of 1–5 digits. Anything else
 * (spaces, '/', '@', '%', a second ':', an unclosed '[') is refused, so lb never routes on a Host an upstream
 * could read as a different name. Allocation-free.
 */
export function validHost(value: string): boolean {
  const n = value.length
  let i = 0
  if (value.charCodeAt(0) === 91 /* [ */) {
    i = 1
    for (; i < n; i++) {
      const c = value.charCodeAt(i)
      if (c === 93 /* ] */) break
      const hex = (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46
      if (!hex) return false
    }
    if (i === n || i === 1) return false
    i++
  } else {
    for (; i < n; i++) {
      const c = value.charCodeAt(i)
      if (c === 58 /* : */) break
      if (c >= 128 || HOST_CHAR[c] !== 1) return false
    }
    if (i === 0 && n > 0) return false
  }
  if (i === n) return true
  if (value.charCodeAt(i) !== 58) return false
  const digits = n - i - 1
  if (digits < 1 || digits > 5) return false
  for (let k = i + 1; k < n; k++) {
    const c = value.charCodeAt(k)
    if (c < 48 || c > 57) return false
  }
  return true
}

/**
 * Why the request's Host headers cannot be routed on ('' when they can): more than one Host (RFC 9112 §3.2:
 * 400), or one that is not `validHost`. Runs once per request over the raw header list; no allocation unless it
 * fails.
 */
export function hostProblem(raw: readonly string[]): string {
  let seen = false
  const n = raw.length - 1
  for (let i = 0; i < n; i += 2) {
    const name = raw[i] ?? ''
    if (name.length !== 4 || !equalsLower(name, 'host')) continue
    if (seen) return 'more than one Host header'
    seen = true
    if (!validHost(raw[i + 1] ?? '')) return 'malformed Host header'
  }
  return ''
}

/** Trailer lines without the fields that only make sense hop by hop or as framing. */
export function filterTrailers(trailers: string): string {
  const lines = trailers.split('\r\n')
  let out = ''
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    if (line === '') continue
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).toLowerCase()
    if (
      name === 'content-length' ||
      name === 'transfer-encoding' ||
      name === 'connection' ||
      name === 'trailer'
    )
      continue
    out += line + '\r\n'
  }
  return out
}
