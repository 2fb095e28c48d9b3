/**
 * The shared routing model: plain, readonly, serialisable data. Providers emit whole Snapshots, never deltas.
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
  /** false = never actively checked even when the service has a check (haproxy: `check` not set). Default true. */
  readonly check?: boolean
  /**
   * How requests routed to this server are rewritten, when it differs from its route's (fabio keeps options
   * per target: `urlprefix-/same strip=/same` on one service and `urlprefix-/same` on another share the route
   * `/same`). Absent = the route's `strip`, `prepend` and `hostHeader` apply.
   */
  readonly target?: TargetOptions
}

/** The per-target request rewrite of fabio's route options (`strip=`, `prepend=`, `host=`). */
export interface TargetOptions {
  /** Prefix removed from the upstream path ('' = none). */
  readonly strip: string
  /** Prefix added after strip ('' = none). */
  readonly prepend: string
  /** Upstream Host: '' = the client's, 'dst' = the server's host:port, else this literal. */
  readonly hostHeader: string
  /** The target URL's query, joined before the client's (`x=1` + `y=2` → `x=1&y=2`); absent = none. */
  readonly query?: string
}

/** How a route's path is matched (`http.path_match`, or per route): see src/route/trie.ts and table.ts. */
export type PathMatch = 'prefix' | 'segment' | 'iprefix' | 'glob'

/** An inclusive HTTP status range; one code is `{ lo: 200, hi: 200 }`. */
export interface StatusRange {
  readonly lo: number
  readonly hi: number
}

/**
 * Active health check of every server of a service (haproxy `check` + `inter`/`rise`/`fall` + `option httpchk`).
 * `source` says which health counts: `active` (these checks only), `consul` (the provider's server state only:
 * no probes run), `both` (up only when both say so).
 */
export interface HealthCheckSpec {
  readonly source: 'active' | 'consul' | 'both'
  readonly type: 'tcp' | 'http' | 'https'
  readonly inter: number
  /** 0 = `inter`. */
  readonly fastinter: number
  /** 0 = `inter`. */
  readonly downinter: number
  readonly rise: number
  readonly fall: number
  /** Bounds one whole probe. */
  readonly timeout: number
  /** Check this port instead of the server's (0 = the server's). */
  readonly port: number
  /** Check this host instead of the server's ('' = the server's). */
  readonly address: string
  /** Random ± percent on every interval (haproxy `spread-checks`), 0..50. */
  readonly spread: number
  readonly initState: 'up' | 'down' | 'fully-up' | 'fully-down'
  /**
   * PROXY header on checks (haproxy `check-send-proxy`): true = always (the service's `sendProxy` version, v1 when
   * it has none), false = never; absent = the service's `sendProxy` unless `port`/`address` is set (haproxy).
   */
  readonly sendProxy?: boolean
  readonly http: {
    readonly method: string
    readonly path: string
    /** '' = the checked host:port. */
    readonly host: string
    readonly expectStatus: readonly StatusRange[]
  }
  readonly tls: {
    /** PEM CA bundle; '' = system store. */
    readonly ca: string
    readonly skipVerify: boolean
    /** '' = the server's hostname. */
    readonly sni: string
  }
}

/** Passive health from live traffic (haproxy `observe`, `error-limit`, `on-error`). */
export interface ObserveSpec {
  readonly observe: 'layer4' | 'layer7'
  readonly errorLimit: number
  readonly onError: 'fastinter' | 'fail-check' | 'sudden-death' | 'mark-down'
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
  // The fields below are optional so providers that do not know them (Consul) need not set them.
  /** Active checks; absent = none (servers are as healthy as the provider says). */
  readonly check?: HealthCheckSpec
  /** Passive checks; absent = off. */
  readonly observe?: ObserveSpec
  /** ms over which a server returning to UP ramps from 1 to its full weight; absent or 0 = off. */
  readonly slowstart?: number
  /** Requests waiting for a server at maxconn, per service; 0 = unlimited. Absent = 0. */
  readonly maxqueue?: number
  /** ms a request may wait in the queue before 503; absent = `timeouts.connect` (haproxy's default). */
  readonly queueTimeout?: number
  /** `shutdown-sessions`: close every connection to a server when it is marked DOWN. */
  readonly onMarkedDown?: 'none' | 'shutdown-sessions'
  /** Send a PROXY protocol header on every upstream connection (TCP mode; HTTP too). Absent = none. */
  readonly sendProxy?: 'none' | 'v1' | 'v2'
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
  /**
   * Client networks (CIDR text, as `parseCidr` accepts) allowed to use the route; absent or empty = everyone.
   * Checked against the real client address (trusted proxies honoured). fabio `allow=ip:...`.
   */
  readonly allow?: readonly string[]
  /** Client networks refused with 403; absent or empty = none. fabio `deny=ip:...`. */
  readonly deny?: readonly string[]
  /** How `path` is matched; absent = the table's `http.path_match`. */
  readonly pathMatch?: PathMatch
  /** Name of an `http.auth` scheme the client must pass (fabio `auth=`); absent or '' = none. */
  readonly auth?: string
  /** fabio `register=<name>`: lb registers itself in Consul under this name too; absent = no alias. */
  readonly register?: string
  /** `Strict-Transport-Security` value sent on TLS listeners' responses (config `routes[].hsts`); absent = none. */
  readonly hsts?: string
}

/** A TCP route: connections accepted on listener `port` go to `service` (fabio `urlprefix-:PORT proto=tcp`). */
export interface TcpRouteSpec {
  readonly port: number
  /** SNI server name to match on that port ('' = any connection on the port). */
  readonly serverName: string
  readonly service: string
  readonly source: string
  /** An SNI route from a `host/ proto=tcp` tag (fabio tcp+sni): it applies on every TCP listener. */
  readonly anyPort?: boolean
  /**
   * Listener address for a Consul tcp-dynamic route (fabio `urlprefix-<ip>:<port> proto=tcp`): lb opens a TCP
   * listener on `bindHost:port` for it. Absent = the route belongs to a configured TCP listener on `port`.
   */
  readonly bindHost?: string
}

export interface Snapshot {
  readonly services: readonly ServiceSpec[]
  readonly routes: readonly HttpRouteSpec[]
  readonly tcpRoutes: readonly TcpRouteSpec[]
  /** The no-route HTML page a provider holds (Consul KV `consul.no_route_key`); absent = none. */
  readonly noRoutePage?: string
}

// Service defaults: what a provider fills in for the services it builds (the config's `defaults:` section).

export interface UpstreamTimeouts {
  connect: number
  server: number
  body: number
  keepAlive: number
  /** Time a request may wait for a server at maxconn (503 after); absent = `connect` (haproxy default). */
  queue?: number
}

/** Health checks and server options of every service (haproxy `default-server`); each service may override. */
export interface ServiceHealthOptions {
  /** Active checks; null = none. */
  check: HealthCheckSpec | null
  /** Passive checks (haproxy `observe`, `error-limit`, `on-error`); null = off. */
  observe: ObserveSpec | null
  /** ms; 0 = off. */
  slowstart: number
  /** Requests queued per service while servers are at maxconn; 0 = unlimited. */
  maxqueue: number
  onMarkedDown: 'none' | 'shutdown-sessions'
  sendProxy: 'none' | 'v1' | 'v2'
}

export interface ServiceDefaults extends ServiceHealthOptions {
  balance: BalanceName
  retries: number
  maxConnections: number
  timeouts: UpstreamTimeouts
}
