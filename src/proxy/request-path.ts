/**
 * The request path: every decision lb makes about one HTTP request, Upgrade request or TCP session, in one place.
 * The transports (exchange.ts for HTTP and Upgrade, tcp/session.ts for TCP) only connect and move bytes; they call these
 * functions and act on what they return.
 *
 * - who the client is (`identifyClient`: trusted proxies, X-Forwarded-For, the request id);
 * - where a request goes (`routeRequest`: Host checks, target form, route, ACL, redirect, service, the upstream
 *   path from the normal form);
 * - which server (`pickServer`, and the service queue when every server is at maxconn);
 * - whether a failure may be retried (`mayRetry`) and what it means for the client (`failures`: status,
 *   haproxy termination state, metric label), from an engine-neutral `FailureKind` (`failureKind` maps socket
 *   error codes to kinds; nothing else looks at error codes or messages).
 */
import type { Route } from '../route/table.js'
import { lookupHttp, routeAllows } from '../route/lookup.js'
import { redirectLocation } from '../route/redirect.js'
import { checkAuth, type AuthScheme } from '../route/auth.js'
import type { NoRouteAnswer } from '../route/noroute.js'
import { canQueue, selectBackend } from '../balance/pool.js'
import { normalizePath } from '../route/normalize.js'
import type { CidrSet } from '../net/cidr.js'
import type { ServiceRuntime, Upstream } from './upstream.js'
import {
  acceptRequestId,
  clientAddress,
  findHeader,
  forwardedProto,
  joinHeader,
  newRequestId,
  validHost,
} from './headers.js'
import type { RouteTable } from '../route/table.js'
import type { ConnectErrorReason } from '../metrics/families.js'

/** What the request path reads from the worker: swapped whole on every snapshot. */
export interface ProxyState {
  readonly table: RouteTable
  readonly services: ReadonlyMap<string, ServiceRuntime>
  readonly version: number
}

/**
 * Why an attempt to reach a server, or an exchange with it, failed. Engine-neutral: a transport maps its own
 * errors to these (`failureKind` for socket errors) and everything after that branches on the kind.
 */
export type FailureKind =
  /** Connection refused (nothing listening). */
  | 'refused'
  /** No connection within `timeouts.connect`. */
  | 'connect_timeout'
  /** Any other failure to connect: unreachable, TLS handshake, no address for the server's name. */
  | 'connect_error'
  /** The server closed or reset the connection before any byte of the response. */
  | 'reset'
  /** No response head within `timeouts.server`. */
  | 'server_timeout'
  /** The response is not valid HTTP/1.1. */
  | 'protocol'
  /** The response body stalled longer than `timeouts.body`. */
  | 'body_timeout'
  /** The connection closed or reset in the middle of the response body. */
  | 'body_reset'
  /** Every usable server is busy and the request waited `timeouts.queue` in vain. */
  | 'queue_timeout'
  /** No usable server at all (down, drain, maint, weight 0, full queue). */
  | 'no_server'

export interface Failure {
  /** Status lb answers with when nothing of the response was sent yet. */
  readonly status: number
  /** haproxy termination state (who ended it, in which phase). */
  readonly termination: string
  /** `lb_server_connect_errors_total{reason}` for connect failures, else null. */
  readonly connectReason: ConnectErrorReason | null
}

/**
 * haproxy's answers (see docs/haproxy.md, Failure semantics): no server reachable after the retries is 503, a server
 * that does not answer in time 504, an invalid response 502 `PH`, a connection the server closed 502 `SH`.
 */
export const failures: { readonly [K in FailureKind]: Failure } = {
  refused: { status: 503, termination: 'SC', connectReason: 'refused' },
  connect_timeout: { status: 503, termination: 'sC', connectReason: 'timeout' },
  connect_error: { status: 503, termination: 'SC', connectReason: 'other' },
  reset: { status: 502, termination: 'SH', connectReason: null },
  server_timeout: { status: 504, termination: 'sH', connectReason: null },
  protocol: { status: 502, termination: 'PH', connectReason: null },
  body_timeout: { status: 504, termination: 'sD', connectReason: null },
  body_reset: { status: 502, termination: 'SD', connectReason: null },
  queue_timeout: { status: 503, termination: 'sQ', connectReason: null },
  no_server: { status: 503, termination: 'SC', connectReason: null },
}

/** Whether a failure happened before anything reached the server (so any request may go elsewhere). */
export function beforeSending(kind: FailureKind): boolean {
  return kind === 'refused' || kind === 'connect_timeout' || kind === 'connect_error'
}

/**
 * Whether an attempt that failed with `kind` may be made again (on another server when there is one):
 * - a failure to connect: nothing was sent, always;
 * - the server closed a *reused* keep-alive connection before answering (it was closing it as the request went
 *   out): only a request that can be replayed (idempotent method, no body), as haproxy does;
 * - anything else may have been acted on by the server: never.
 */
export function mayRetry(kind: FailureKind, reusedConnection: boolean, replayable: boolean): boolean {
  if (beforeSending(kind)) return true
  return kind === 'reset' && reusedConnection && replayable
}

/** The failure kind of a socket error during connect (`connecting`) or after it. Branches on `code` only. */
export function failureKind(err: unknown, connecting: boolean): FailureKind {
  const code = (err as { code?: unknown } | null)?.code
  if (connecting) {
    if (code === 'ECONNREFUSED') return 'refused'
    if (code === 'ETIMEDOUT') return 'connect_timeout'
    return 'connect_error'
  }
  return 'reset'
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/** The method may be replayed (RFC 9110 §9.2.2). */
export function idempotentMethod(method: string): boolean {
  return IDEMPOTENT.has(method)
}

/** Client identity of one request or tunnel, filled by `identifyClient`. */
export interface ClientIdentity {
  clientIp: string
  requestId: string
}

export interface IdentityContext {
  readonly trustedProxies: CidrSet
  /** Lower-case request-id header name, '' = off. */
  readonly requestIdHeader: string
}

/**
 * Who is asking: sets `clientIp` (the real client, dotted even for ::ffff: peers; X-Forwarded-For counts only
 * from trusted peers) and `requestId` (the client's when acceptable, else a new one; '' when off). Returns whether
 * the peer itself is a trusted proxy.
 */
export function identifyClient(
  ctx: IdentityContext,
  remote: string,
  headers: readonly string[],
  into: ClientIdentity,
): boolean {
  const trusted = ctx.trustedProxies.has(remote)
  into.clientIp = clientAddress(
    remote,
    trusted ? joinHeader(headers, 'x-forwarded-for') : undefined,
    ctx.trustedProxies,
  )
  if (ctx.requestIdHeader !== '') {
    const given = findHeader(headers, ctx.requestIdHeader)
    into.requestId = given !== undefined && acceptRequestId(given) ? given : newRequestId()
  } else {
    into.requestId = ''
  }
  return trusted
}

/** What `routeRequest` reads of a request. */
export interface RoutedRequest {
  readonly method: string
  readonly target: string
  readonly host: string | undefined
  readonly hostCount: number
  /** Header lines, flat (for `Authorization` and a trusted proxy's forwarded proto). */
  readonly headers: readonly string[]
}

/** What `routeRequest` reads of the listener and the process. */
export interface RoutingContext {
  state: ProxyState
  readonly auth: ReadonlyMap<string, AuthScheme>
  readonly noRoute: NoRouteAnswer
}

/** How the request reached lb. */
export interface Arrival {
  /** The listener terminates TLS (`:443` routes, https redirects). */
  readonly tls: boolean
  /** The peer is a trusted proxy (its X-Forwarded-Proto counts for the redirect-loop guard). */
  readonly trusted: boolean
}

/** What `routeRequest` decides, written into the exchange (reused per request: no allocation). */
export interface RouteDecision {
  route: Route | null
  service: ServiceRuntime | null
  /** The host routed on ('' = none): the Host header, or the authority of an absolute-form target. */
  host: string
  /** Authority of an absolute-form target ('' for origin-form): becomes the upstream Host. */
  authority: string
  /** The origin-form target as received (`/p?q`). */
  url: string
  /** Path + query sent upstream (strip/prepend applied to the normal form). */
  path: string
  /** Redirect routes: the `Location`. */
  location: string
  /** Local answer: why ('' when the request goes upstream). */
  reason: string
  termination: string
  /** A 401's `WWW-Authenticate` ('' otherwise). */
  challenge: string
  /** An HTML page to answer with instead of the reason text (the no-route page; '' otherwise). */
  page: string
}

/**
 * Absolute-form request target (RFC 9112 §3.2.2): scheme, authority (no userinfo: '@' fails `validHost`), the
 * rest. Only requests in this form pay for the regular expression.
 */
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)(.*)$/is

/**
 * Decides where one HTTP request (or Upgrade request) goes. Returns 0 when it goes to `into.service`, or the
 * status lb answers itself (400 bad Host or target, 404 no route, 403 denied, 503 no service, a redirect's 3xx),
 * with `into.reason` and `into.termination` set.
 */
export function routeRequest(
  ctx: RoutingContext,
  req: RoutedRequest,
  arrival: Arrival,
  clientIp: string,
  into: RouteDecision,
): number {
  const state = ctx.state
  into.route = null
  into.service = null
  into.authority = ''
  into.location = ''
  into.reason = ''
  into.challenge = ''
  into.page = ''
  into.termination = 'PR'
  let url = req.target
  let host = req.host ?? ''
  // The Host lb routes on is the one the upstream sees: exactly one, well-formed (RFC 9112 §3.2).
  if (req.hostCount > 1) return local(into, 400, 'more than one Host header')
  if (req.hostCount === 1 && !validHost(host)) return local(into, 400, 'malformed Host header')
  if (url.charCodeAt(0) !== 47 /* / */) {
    // Absolute-form: route by the target's authority, send origin-form and that Host upstream.
    const m = ABSOLUTE_FORM.exec(url)
    const authority = m === null ? '' : (m[1] as string)
    if (m === null || authority === '' || !validHost(authority) || url.includes('#')) {
      return local(into, 400, 'request target must be origin-form or absolute-form')
    }
    if (req.hostCount === 1 && host === '') return local(into, 400, 'empty Host with an absolute-form target')
    const rest = m[2] as string
    url = rest === '' || rest.charCodeAt(0) === 63 /* ? */ ? '/' + rest : rest
    host = authority
    into.authority = authority
  } else if (url.includes('#')) {
    return local(into, 400, 'fragment in request target')
  }
  into.host = host
  into.url = url
  // The redirect-loop guard's scheme: a trusted proxy's X-Forwarded-Proto, else https for lb's own TLS (as
  // fabio takes the scheme from the connection), so an https redirect to the same URL is not answered over TLS.
  const proto = arrival.trusted ? forwardedProto(req.headers) : ''
  const route = lookupHttp(state.table, host, url, arrival.tls, proto === '' && arrival.tls ? 'https' : proto)
  if (route === undefined) {
    into.page = ctx.noRoute.html
    return local(into, ctx.noRoute.status, `no route for host "${host}" path "${url}"`)
  }
  into.route = route
  if ((route.allow !== null || route.deny !== null) && !routeAllows(route, clientIp)) {
    return local(into, 403, `access denied for ${clientIp}`)
  }
  if (route.auth !== '') {
    const scheme = ctx.auth.get(route.auth)
    if (!checkAuth(scheme, findHeader(req.headers, 'authorization'))) {
      into.challenge = scheme?.challenge ?? ''
      return local(into, 401, `authentication required (${route.auth})`)
    }
  }
  if (route.redirect !== null) {
    into.location = redirectLocation(route, url, host)
    into.termination = 'LR'
    return route.redirect.code
  }
  const service = state.services.get(route.service)
  if (service === undefined) {
    into.termination = 'SC'
    return local(into, 503, `no server available for service "${route.service}"`)
  }
  into.service = service
  into.path = upstreamPath(url, route)
  into.termination = '--'
  return 0
}

function local(into: RouteDecision, status: number, reason: string): number {
  into.reason = reason
  return status
}

/**
 * The path sent upstream: the client's own target unless the route rewrites it. A rewrite (strip/prepend)
 * starts from the normal form the route matched (`normalizePath`), so `/api/../../etc` cannot climb out of a
 * prepended prefix; the query is kept as sent.
 */
export function upstreamPath(url: string, route: Route): string {
  if (route.strip === '' && route.prependPath === '') return url
  const match = normalizePath(url)
  if (match === url) return rewritePath(url, route)
  const q = url.indexOf('?')
  return rewritePath(q < 0 ? match : match + url.slice(q), route)
}

/** Upstream path: strip the route's prefix (keeping a leading '/'), then prepend. The query is kept. */
export function rewritePath(url: string, route: Route): string {
  let path = url
  if (route.strip !== '' && path.startsWith(route.strip)) {
    path = path.slice(route.strip.length)
    // '' , '?q' and 'x' all need the leading '/' back.
    if (path.charCodeAt(0) !== 47 /* / */) path = '/' + path
  }
  return route.prependPath === '' ? path : route.prependPath + path
}

/**
 * The server for the next attempt: the service's picker, avoiding `avoid` (the server that just failed) when
 * another is available. undefined when none can take it now; `canWait` then says whether waiting in the
 * service queue makes sense (a usable server is merely at maxconn) or the answer is 503 at once.
 */
export function pickServer(
  service: ServiceRuntime,
  rand: () => number,
  avoid: Upstream | null,
): Upstream | undefined {
  return selectBackend(service.pool, rand, avoid) as Upstream | undefined
}

export function canWait(service: ServiceRuntime): boolean {
  return canQueue(service.pool)
}
