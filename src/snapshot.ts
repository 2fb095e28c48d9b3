/**
 * The shared routing model: plain, readonly, serialisable data (STYLE §5).
 * Providers emit Snapshots; workers build a RouteTable and upstream pools from them.
 * Durations are milliseconds everywhere in this file.
 */

/** Registry names of the pickers (src/balance/pickers.ts derives its registry type from these). */
export type BalanceName = 'roundrobin' | 'static-rr' | 'leastconn' | 'random' | 'first'

/** Administrative/health state of a server as known by the control plane. */
export type ServerState = 'up' | 'down' | 'drain' | 'maint'

export interface ServerSpec {
  /** Stable identity inside its service: the configured name, or `host:port`. */
  readonly name: string
  /** Hostname or IP literal exactly as configured (IPv6 without brackets). */
  readonly host: string
  readonly port: number
  /** 0..256; 0 = receives no new traffic. */
  readonly weight: number
  readonly backup: boolean
  /** Concurrent requests allowed to this server; 0 = unlimited. */
  readonly maxconn: number
  readonly state: ServerState
}

export interface ServiceTimeouts {
  /** TCP (+TLS) connect to a server. */
  readonly connect: number
  /** Time from request sent to response headers received (haproxy `timeout server` in HTTP mode). */
  readonly server: number
  /** Inactivity on the upstream response body. */
  readonly body: number
  /** Idle upstream keep-alive connections are closed after this. */
  readonly keepAlive: number
}

export interface ServiceSpec {
  readonly name: string
  readonly balance: BalanceName
  /** Extra attempts on another server when connecting failed (nothing was sent yet). */
  readonly retries: number
  readonly timeouts: ServiceTimeouts
  /** Upper bound on pooled connections per server. */
  readonly maxConnections: number
  /** Upstream protocol. */
  readonly proto: 'http' | 'https'
  /** Skip certificate verification for https upstreams. */
  readonly tlsSkipVerify: boolean
  readonly servers: readonly ServerSpec[]
}

export interface Redirect {
  /** 301, 302, 303, 307 or 308. */
  readonly code: number
  /** Target URL; `$path` (path + query) and `$host` are replaced per request. */
  readonly url: string
}

export interface HttpRouteSpec {
  /** Lower-case host, `*.suffix` wildcard, or '' for the catch-all. No default port. */
  readonly host: string
  /** Path prefix starting with '/'. */
  readonly path: string
  /** Service name; '' when the route is a redirect. */
  readonly service: string
  /** Prefix removed from the upstream path ('' = none). */
  readonly strip: string
  /** Prefix added to the upstream path after strip ('' = none). */
  readonly prepend: string
  /** Upstream Host header: '' = keep the client's, 'dst' = the server's host:port, otherwise this literal. */
  readonly hostHeader: string
  readonly redirect: Redirect | null
  /** Where the route came from, for explain output (e.g. `config:routes[2]`). */
  readonly source: string
}

/** A TCP route: connections accepted on listener `port` go to `service` (fabio `urlprefix-:PORT proto=tcp`). */
export interface TcpRouteSpec {
  readonly port: number
  /** SNI server name to match on that port ('' = any connection on the port). */
  readonly serverName: string
  readonly service: string
  readonly source: string
}

export interface Snapshot {
  readonly services: readonly ServiceSpec[]
  readonly routes: readonly HttpRouteSpec[]
  readonly tcpRoutes: readonly TcpRouteSpec[]
}
