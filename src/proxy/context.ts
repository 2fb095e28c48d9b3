/**
 * What the HTTP data plane of one process shares: the current routing state (swapped whole on every snapshot),
 * the settings every connection reads, the shared deadline heap, logs and metrics.
 */
import type { CidrSet } from '../net/cidr.js'
import type { AccessLines, Logger } from '../log/log.js'
import type { Metrics } from '../metrics/metrics.js'
import type { Deadlines } from './timers.js'
import type { ProxyState } from './request-path.js'
import type { AuthScheme } from '../route/auth.js'
import type { NoRouteAnswer } from '../route/noroute.js'
import type { DeepReadonly, Http2Config } from '../config/types.js'

/**
 * The worker-wide budget of open client connections over all HTTP listeners (`http.maxconn`, 0 = none).
 * A connection over it is closed as soon as it is accepted, before a byte is read.
 */
export class ConnectionBudget {
  readonly max: number
  open: number

  constructor(max: number) {
    this.max = max
    this.open = 0
  }
}

/** Client-side HTTP timeouts (ms; `http.timeouts`). */
export interface ClientTimeouts {
  /** A complete request head, counted from the connection's accept or the first byte after keep-alive. */
  readonly httpRequest: number
  /** Client inactivity while lb reads a request body or writes a response the client does not read. */
  readonly client: number
  /** Idle time between requests on a keep-alive connection. */
  readonly keepAlive: number
  /** Inactivity on an upgraded (WebSocket) tunnel. */
  readonly tunnel: number
}

/** Shared by every HTTP listener of a process. */
export interface ProxyContext {
  state: ProxyState
  readonly trustedProxies: CidrSet
  /** Lower-case request-id header name, '' = off. */
  readonly requestIdHeader: string
  /** `http.auth` schemes by name (routes with `auth`). */
  auth: ReadonlyMap<string, AuthScheme>
  /** The answer when no route matches (`http.no_route`; the page may come from Consul KV). */
  noRoute: NoRouteAnswer
  /** The access log formats fabio's `$field` templates: log lines carry the extra fields it reads (log.ts). */
  readonly accessDetail: boolean
  /** `http.client_ip_header` as configured and in lower case ('' = off), and `http.local_ip` ('' = none). */
  readonly clientIpHeader: string
  readonly clientIpLower: string
  readonly forwardedBy: string
  /** The session ticket key of listener `name` now (src/proxy/ticket-keys.ts), for its TLS contexts. */
  readonly ticketKey: (name: string, rotation: number) => Buffer
  /** Lower-case `tls.client_header` names of every listener (removed from every request); replaced on reload. */
  certHeaders: ReadonlySet<string>
  readonly accessLog: Logger
  /** The access log's taker of preformatted JSON lines (src/log/log.ts `accessLines`); null = use `accessLog.info`. */
  readonly accessLines: AccessLines | null
  readonly log: Logger
  readonly rand: () => number
  /** ms clock for the access log's timers (monotonic). */
  readonly now: () => number
  /** Open client connections over all HTTP listeners (`http.maxconn`). */
  readonly connections: ConnectionBudget
  readonly metrics: Metrics
  readonly deadlines: Deadlines
  readonly timeouts: ClientTimeouts
  /** Request and response head bytes accepted (`http.max_header_size`; an HTTP/2 header list too). */
  readonly maxHeaderSize: number
  /** Limits of HTTP/2 client connections (`http.http2`). */
  readonly http2: DeepReadonly<Http2Config>
  /** Every open tunnel, for shutdown. */
  readonly tunnels: TunnelSet
  /** Content-Types whose responses lb gzips (`http.gzip_content_types`); null = off. */
  gzip: RegExp | null
  /**
   * `Keep-Alive: timeout=<s>\r\n` from `timeouts.keepAlive`, on every response that keeps the connection: clients
   * that honour it (undici, Node, curl) stop reusing an idle connection before lb closes it, instead of racing
   * lb's close with their next request (Node's HTTP server sends the same hint).
   */
  readonly keepAliveHint: string
}

/** The `Keep-Alive` response hint for an idle timeout of `ms`. */
export function keepAliveHint(ms: number): string {
  return `Keep-Alive: timeout=${Math.floor(ms / 1000)}\r\n`
}

/** A long-lived session (an Upgrade tunnel) that shutdown closes at its deadline. */
export interface ClosableSession {
  destroy(termination: string): void
}

/** Every open tunnel of the process. */
export class TunnelSet {
  readonly open: Set<ClosableSession> = new Set()
  closeAll(): void {
    for (const t of [...this.open]) t.destroy('shutdown')
  }
}

/** Per-listener facts the headers need. */
export interface ListenerInfo {
  readonly name: string
  readonly proto: 'http' | 'https'
  port: number
}
