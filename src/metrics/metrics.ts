/**
 * Every lb metric family, defined once (`families`, STYLE §10). Each process owns a `Metrics` (no globals); its
 * prom-client `registry` holds only prom-client's default process metrics.
 *
 * How numbers get in:
 * - Per request / per TCP session: one call at the single end point where the access log is written
 *   (`observeHttp`, `observeTcp`) adds to plain number fields of stats objects (`ServiceRuntime.metrics`,
 *   `Upstream.metrics`, one per route id). A stats object is created the first time its service, server or route
 *   counts something (once, not per request) and kept across table swaps while its name exists: with 10,000
 *   services × 3 servers and 20,000 routes, prebuilding them all at every swap held ≈ 40 MB for series that
 *   stay at zero (most services of a large Consul see no traffic through a given lb). Nothing is allocated or
 *   hashed per request after the first.
 *   prom-client's own label children are not used on the hot path: `counter.labels(...).inc()` re-hashes the label
 *   object and `histogram.labels(...).observe()` allocates on every call (prom-client 15 `lib/counter.js`,
 *   `lib/histogram.js`).
 * - Everything else is read at scrape time: in-flight and queue lengths, server state, health-check counters,
 *   Consul watch state, reloads, table version and size.
 *
 * How numbers get out: at each scrape every family is read from the live stats objects and the current table and
 * written straight to the exposition text by lb's own writer (src/exposition.ts; `text()`), without prom-client
 * metric objects: at 10,000 services × 3 servers a scrape is ≈ 250,000 lines, and prom-client's `set`/`inc` per
 * series and `registry.metrics()` took 3.9 s and grew RSS by ≈ 260 MB for the first scrape (bench/scrape.ts). A
 * server's escaped `service="…",server="…"` is built once per scrape and shared by all of its lines; the servers
 * are walked once for every family that lists them. The series of a route, server, service or listener that is
 * gone disappear with it (bounded cardinality; fabio keeps them forever).
 *
 * Cluster mode: the primary asks every worker for `reply()` over lb's own IPC message with a per-scrape timeout:
 * the worker's traffic families as two arrays each (series, value), and its process metrics as prom-client JSON.
 * The primary's `aggregate` combines each series by its family's `aggregator` (sum for counts, min/max for
 * versions and sizes), as prom-client's `AggregatorRegistry.aggregate` did (and still does for the process
 * metrics), and writes its own `controlFamilies` (Consul, reloads, health, server state and weight) straight to
 * text: only the primary computes them, the workers compute none. A slow or dead worker leaves its numbers out
 * and is counted in `lb_metrics_workers_missing` instead of failing the scrape (prom-client's `clusterMetrics()`
 * fails it).
 */
import { AggregatorRegistry, Registry, collectDefaultMetrics } from 'prom-client'
import {
  ChunkPool,
  DataFamily,
  TextFamily,
  escapeLabel,
  isFamilyData,
  joinFamilies,
  mergeFamilies,
  textOf,
  type Aggregator,
  type FamilyData,
  type FamilyDef,
  type FamilyType,
  type Samples,
} from './exposition.js'
import type { ServiceRuntime, Upstream } from '../proxy/upstream.js'
import type { Route, RouteTable } from '../route/table.js'

/** Status classes; index `status / 100 - 1`, and `none` (index 5) for requests that got no status. */
export const statusClasses = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'] as const

/** Why a connection to a server failed (`lb_upstream_connect_errors_total{reason}`). */
export const connectErrorReasons = ['refused', 'timeout', 'reset', 'resolve', 'other'] as const
export type ConnectErrorReason = (typeof connectErrorReasons)[number]

/** Latency buckets (seconds) of every request histogram. */
export const latencyBuckets: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]
/** Health-check duration buckets (seconds). */
export const checkBuckets: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]

/** Histogram counts in plain numbers; `counts[i]` is for `value <= bounds[i]`, the last slot for +Inf. */
export class Buckets {
  readonly bounds: readonly number[]
  readonly counts: Float64Array
  sum: number
  count: number
  constructor(bounds: readonly number[]) {
    this.bounds = bounds
    this.counts = new Float64Array(bounds.length + 1)
    this.sum = 0
    this.count = 0
  }
  observe(value: number): void {
    const b = this.bounds
    let i = 0
    while (i < b.length && value > (b[i] as number)) i++
    this.counts[i] = (this.counts[i] as number) + 1
    this.sum += value
    this.count++
  }
}

function classIndex(status: number): number {
  const i = ((status / 100) | 0) - 1
  return i >= 0 && i < 5 ? i : 5
}

/** One service's request counters (kept across table swaps while the service exists). */
export class ServiceStats {
  readonly name: string
  readonly byClass: Float64Array
  /** Request start to response end. */
  readonly total: Buckets
  /** Connected to response headers (haproxy Tr), for requests that reached a server. */
  readonly upstream: Buckets
  retries: number
  bytesIn: number
  bytesOut: number
  constructor(name: string) {
    this.name = name
    this.byClass = new Float64Array(statusClasses.length)
    this.total = new Buckets(latencyBuckets)
    this.upstream = new Buckets(latencyBuckets)
    this.retries = 0
    this.bytesIn = 0
    this.bytesOut = 0
  }
}

/** One server's counters, keyed by `service/server` (kept while the server exists, whatever its pool does). */
export class ServerStats {
  readonly service: string
  readonly server: string
  readonly byClass: Float64Array
  readonly connectErrors: Float64Array
  readonly checkDuration: Buckets
  tcpConnections: number
  tcpBytesIn: number
  tcpBytesOut: number
  constructor(service: string, server: string) {
    this.service = service
    this.server = server
    this.byClass = new Float64Array(statusClasses.length)
    this.connectErrors = new Float64Array(connectErrorReasons.length)
    this.checkDuration = new Buckets(checkBuckets)
    this.tcpConnections = 0
    this.tcpBytesIn = 0
    this.tcpBytesOut = 0
  }
}

/** One route's counters; `route` is the table's object, so a request of an older table is not miscounted. */
export class RouteStats {
  readonly route: Route
  readonly label: string
  readonly byClass: Float64Array
  constructor(route: Route, previous: RouteStats | undefined) {
    this.route = route
    this.label = route.host + route.path
    this.byClass = previous === undefined ? new Float64Array(statusClasses.length) : previous.byClass
  }
}

/** One TCP listener's counters. */
export class ListenerStats {
  readonly name: string
  connections: number
  bytesIn: number
  bytesOut: number
  constructor(name: string) {
    this.name = name
    this.connections = 0
    this.bytesIn = 0
    this.bytesOut = 0
  }
}

/** A service as metrics count it (src/proxy/upstream.ts `ServiceRuntime`); `metrics` null = not counted yet. */
export interface CountedService {
  metrics: ServiceStats | null
  readonly spec: { readonly name: string }
}

/** A server as metrics count it (src/proxy/upstream.ts `Upstream`); `metrics` null = not counted yet. */
export interface CountedServer {
  metrics: ServerStats | null
  readonly service: string
  readonly name: string
}

/** What `observeHttp` reads from a finished exchange (src/proxy/http.ts `Exchange`); ms clock values. */
export interface ObservedExchange {
  readonly route: Route | null
  readonly service: CountedService | null
  readonly upstream: CountedServer | null
  readonly status: number
  readonly attempts: number
  readonly bytesIn: number
  readonly bytesOut: number
  readonly tStart: number
  readonly tConnect: number
  readonly tHeaders: number
}

/** A Consul watch as the provider reports it (src/provider/consul/client.ts `WatchState` + data age). */
export interface WatchView {
  readonly name: string
  readonly lastIndex: number
  readonly errors: number
  readonly totalErrors: number
  /** ms since the last successful answer (Infinity = never). */
  readonly dataAge: number
}

/** The Consul provider as metrics read it; `stats` keys are optional so new counters show up when they exist. */
export interface ConsulView {
  watches(): readonly WatchView[]
  readonly stats: Readonly<Record<string, number>>
}

/** Sources only the primary has (set by primary.ts; absent in a worker process). */
export interface ControlSources {
  reloads(): { readonly ok: number; readonly failed: number }
  consul(): ConsulView | null
}

/** Families the primary reports itself in cluster mode (the workers' copies are dropped). */
export const controlFamilies: ReadonlySet<string> = new Set([
  'lb_config_reloads_total',
  'lb_consul_watch_data_age_seconds',
  'lb_consul_watch_errors',
  'lb_consul_watch_errors_total',
  'lb_consul_watch_last_index',
  'lb_consul_problems_total',
  'lb_server_state',
  'lb_server_health_checks_total',
  'lb_server_health_check_duration_seconds',
  'lb_server_weight',
])

/** Per-process families in cluster mode: prom-client's default metrics (every process reports its own). */
function isProcessFamily(name: string): boolean {
  return name.startsWith('process_') || name.startsWith('nodejs_')
}

export interface MetricsOptions {
  /** prom-client default process metrics (the daemon's processes; tests leave them off). */
  readonly processMetrics?: boolean
  /** false: nothing is counted per request (`metrics.enabled: false`); scrape-time families still work. */
  readonly enabled?: boolean
}

interface TcpListenerView {
  readonly name: string
  readonly active: number
}

/** Server states, `lb_server_state{state}` (one-hot per server, as haproxy's exporter). */
const serverStates = ['up', 'down', 'drain', 'maint'] as const

/** The index in `serverStates` of `u`'s state. */
function serverStateOf(u: Upstream): number {
  if (u.admin === 'maint') return 3
  if (u.admin === 'drain') return 2
  return u.up ? 0 : 1
}

/** The check-duration histogram of a checked server that has not finished a check yet. */
const noChecks = new Buckets(checkBuckets)

function family(name: string, help: string, type: FamilyType, aggregator: Aggregator = 'sum'): FamilyDef {
  return { name, help, type, aggregator }
}

/** Every lb family, in the order of the text; `aggregator` = how the cluster primary combines workers' copies. */
const families = {
  // Requests.
  httpRequests: family(
    'lb_http_requests_total',
    'HTTP requests answered, by service (<none>: no route, denied or redirected) and status class (none = no status sent)',
    'counter',
  ),
  routeRequests: family(
    'lb_http_route_requests_total',
    'HTTP requests answered, by route (host + path) and status class',
    'counter',
  ),
  serverRequests: family(
    'lb_http_server_requests_total',
    'HTTP requests answered, by the server that handled the last attempt and status class',
    'counter',
  ),
  httpDuration: family(
    'lb_http_request_duration_seconds',
    'Request start to response end, by service',
    'histogram',
  ),
  upstreamDuration: family(
    'lb_http_upstream_duration_seconds',
    'Connected to response headers (haproxy Tr), by service, for requests that reached a server',
    'histogram',
  ),
  httpRetries: family(
    'lb_http_retries_total',
    'Extra attempts (retries) made for requests, by service',
    'counter',
  ),
  httpBytes: family(
    'lb_http_bytes_total',
    'HTTP body bytes: in = read from clients (request bodies), out = response bodies sent, by service',
    'counter',
  ),
  serverInflight: family(
    'lb_server_inflight',
    'Requests and TCP connections in progress, by server',
    'gauge',
  ),
  queueLength: family(
    'lb_service_queue_length',
    'Requests waiting for a server slot (maxconn), by service',
    'gauge',
  ),
  connectErrors: family(
    'lb_upstream_connect_errors_total',
    'Failed connection attempts to servers, by reason',
    'counter',
  ),
  // TCP.
  tcpConnections: family('lb_tcp_connections_total', 'TCP connections closed, by listener', 'counter'),
  tcpActive: family('lb_tcp_connections_active', 'Open TCP connections, by listener', 'gauge'),
  tcpBytes: family(
    'lb_tcp_bytes_total',
    'TCP bytes by listener: in = from clients, out = to clients (counted when a connection closes)',
    'counter',
  ),
  tcpServerConnections: family(
    'lb_tcp_server_connections_total',
    'TCP connections closed, by server',
    'counter',
  ),
  tcpServerBytes: family(
    'lb_tcp_server_bytes_total',
    'TCP bytes by server: in = from clients, out = to clients',
    'counter',
  ),
  // Servers and health.
  serverState: family(
    'lb_server_state',
    'Server state: 1 for the current one of up, down, drain, maint',
    'gauge',
    'max',
  ),
  serverWeight: family(
    'lb_server_weight',
    'Effective weight of each server (after runtime changes and slowstart)',
    'gauge',
    'max',
  ),
  healthChecks: family(
    'lb_server_health_checks_total',
    'Active health checks run, by server and result',
    'counter',
  ),
  healthDuration: family(
    'lb_server_health_check_duration_seconds',
    'Active health-check duration, by server',
    'histogram',
  ),
  // Table.
  tableVersion: family(
    'lb_route_table_version',
    'Route table version in use (cluster: the oldest any worker serves)',
    'gauge',
    'min',
  ),
  tableRoutes: family('lb_route_table_routes', 'HTTP routes in the table', 'gauge', 'max'),
  tableServices: family('lb_route_table_services', 'Services in the table', 'gauge', 'max'),
  // Control plane (primary).
  reloads: family('lb_config_reloads_total', 'Configuration reloads, by result', 'counter'),
  watchDataAge: family(
    'lb_consul_watch_data_age_seconds',
    'Seconds since the Consul watch last answered (catalog, kv; services = the oldest service watch)',
    'gauge',
    'max',
  ),
  watchErrors: family(
    'lb_consul_watch_errors',
    'Consecutive errors of the Consul watch (0 after a success; services = the sum)',
    'gauge',
    'max',
  ),
  watchErrorsTotal: family('lb_consul_watch_errors_total', 'Errors of the Consul watch', 'counter'),
  watchLastIndex: family(
    'lb_consul_watch_last_index',
    'Last Consul index of the watch (services = the highest)',
    'gauge',
    'max',
  ),
  consulProblems: family(
    'lb_consul_problems_total',
    'Consul routing input lb could not use: dropped tags or route commands, warnings, agent errors',
    'counter',
  ),
} as const satisfies Record<string, FamilyDef>

const familyList: readonly FamilyDef[] = Object.values(families)

/** The cluster aggregate's own gauge. */
const workersMissing = family(
  'lb_metrics_workers_missing',
  'Workers that did not answer this scrape in time (their numbers are left out)',
  'gauge',
)

/** Every family a worker's reply may carry, by name (the primary drops names it does not know). */
const familyNames: ReadonlyMap<string, FamilyDef> = new Map(familyList.map((f) => [f.name, f]))

/** Which families a collection writes: all (single process), a worker's, or the primary's control families. */
type Scope = 'all' | 'worker' | 'control'

/** A worker's part of a cluster scrape (`Metrics.reply`), as it crosses the IPC channel. */
export interface MetricsReply {
  /** prom-client's `getMetricsAsJSON()` of the process metrics (empty when they are off). */
  readonly process: readonly object[]
  readonly families: readonly FamilyData[]
}

export class Metrics {
  readonly registry: Registry
  readonly enabled: boolean
  /** Set by the primary: reloads and Consul (null in a worker process). */
  control: ControlSources | null
  /** TCP listeners with their open sessions (set by the Worker). */
  tcpListeners: () => Iterable<TcpListenerView>
  #services: Map<string, ServiceStats>
  /** Server stats by service name, then server name (no `service/server` strings kept or made per swap). */
  #servers: Map<string, Map<string, ServerStats>>
  #routes: RouteStats[]
  #listeners: Map<string, ListenerStats>
  /** Requests answered without a service (no route, denied, redirect), by status class. */
  readonly #unrouted: Float64Array
  /** The Buffers scrape text is written into (kept across scrapes, see `release`). */
  readonly #pool: ChunkPool
  #current: {
    readonly table: RouteTable | null
    readonly services: ReadonlyMap<string, ServiceRuntime>
    readonly version: number
  }

  constructor(options: MetricsOptions = {}) {
    this.registry = new Registry()
    this.enabled = options.enabled ?? true
    this.control = null
    this.tcpListeners = noListeners
    this.#services = new Map()
    this.#servers = new Map()
    this.#routes = []
    this.#listeners = new Map()
    this.#unrouted = new Float64Array(statusClasses.length)
    this.#pool = new ChunkPool()
    this.#current = { table: null, services: new Map(), version: 0 }
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry })
  }

  /**
   * Table swap: hand the stats objects that exist (by name, so counters survive swaps) to the new table's
   * services, servers and routes, and forget the ones whose name is gone. Names that have not counted anything
   * get none (created on first use: `#serviceStats`, `#serverStats`, `#routeStats`).
   */
  sync(table: RouteTable, services: ReadonlyMap<string, ServiceRuntime>, version: number): void {
    this.#current = { table, services, version }
    if (!this.enabled) return
    const nextServices = new Map<string, ServiceStats>()
    const nextServers = new Map<string, Map<string, ServerStats>>()
    for (const svc of services.values()) {
      const name = svc.spec.name
      const s = this.#services.size === 0 ? undefined : this.#services.get(name)
      svc.metrics = s ?? null
      if (s !== undefined) nextServices.set(s.name, s)
      const counted = this.#servers.size === 0 ? undefined : this.#servers.get(name)
      let next: Map<string, ServerStats> | undefined
      // Upstreams not made yet have counted nothing (and get their stats on their first count).
      for (const u of svc.madeUpstreams ?? []) {
        const st = counted?.get(u.name)
        u.metrics = st ?? null
        if (st === undefined) continue
        if (next === undefined) nextServers.set(name, (next = new Map()))
        next.set(u.name, st)
      }
    }
    this.#services = nextServices
    this.#servers = nextServers
    const routes: RouteStats[] = []
    if (this.#routes.length > 0) {
      const byLabel = new Map<string, RouteStats>()
      for (const r of this.#routes) if (r !== undefined) byLabel.set(r.label, r)
      for (const route of table.routes) {
        const previous = byLabel.get(route.host + route.path)
        if (previous !== undefined) routes[route.id] = new RouteStats(route, previous)
      }
    }
    this.#routes = routes
  }

  /** The stats of `svc`, created on its first count; null when its service is no longer in the table. */
  #serviceStats(svc: CountedService): ServiceStats | null {
    const name = svc.spec.name
    let s = this.#services.get(name)
    if (s === undefined) {
      if (!this.#current.services.has(name)) return null
      s = new ServiceStats(name)
      this.#services.set(name, s)
    }
    svc.metrics = s
    return s
  }

  /** The stats of `up`, created on its first count; null when the server is no longer in the table. */
  #serverStats(up: CountedServer): ServerStats | null {
    let servers = this.#servers.get(up.service)
    let s = servers?.get(up.name)
    if (s === undefined) {
      if (!this.#inTable(up)) return null
      s = new ServerStats(up.service, up.name)
      if (servers === undefined) this.#servers.set(up.service, (servers = new Map()))
      servers.set(up.name, s)
    }
    up.metrics = s
    return s
  }

  #inTable(up: CountedServer): boolean {
    const svc = this.#current.services.get(up.service)
    if (svc === undefined) return false
    for (const u of svc.upstreams) if (u.name === up.name) return true
    return false
  }

  /** The stats of `route`, created on its first count; null when `route` is not of the current table. */
  #routeStats(route: Route): RouteStats | null {
    const r = this.#routes[route.id]
    if (r !== undefined && r.route === route) return r
    const table = this.#current.table
    if (table === null || table.routes[route.id] !== route) return null
    const s = new RouteStats(route, undefined)
    this.#routes[route.id] = s
    return s
  }

  /** The stats of a TCP listener (created on first use, kept while it is open). */
  listener(name: string): ListenerStats {
    let l = this.#listeners.get(name)
    if (l === undefined) {
      l = new ListenerStats(name)
      this.#listeners.set(name, l)
    }
    return l
  }

  /** Listeners that are no longer configured lose their series. */
  retainListeners(names: ReadonlySet<string>): void {
    for (const name of this.#listeners.keys()) if (!names.has(name)) this.#listeners.delete(name)
  }

  /** One finished HTTP request (hot path: plain arithmetic on prebuilt objects, no allocation). */
  observeHttp(ex: ObservedExchange, now: number): void {
    if (!this.enabled) return
    const service = ex.service
    const svc = service === null ? null : (service.metrics ?? this.#serviceStats(service))
    const c = classIndex(ex.status)
    const route = ex.route
    if (route !== null) {
      const r = this.#routeStats(route)
      if (r !== null) r.byClass[c] = (r.byClass[c] as number) + 1
    }
    if (svc === null) {
      this.#unrouted[c] = (this.#unrouted[c] as number) + 1
      return
    }
    svc.byClass[c] = (svc.byClass[c] as number) + 1
    svc.total.observe((now - ex.tStart) / 1000)
    if (ex.tHeaders >= 0 && ex.tConnect >= 0) svc.upstream.observe((ex.tHeaders - ex.tConnect) / 1000)
    if (ex.attempts > 1) svc.retries += ex.attempts - 1
    svc.bytesIn += ex.bytesIn
    svc.bytesOut += ex.bytesOut
    const server = ex.upstream
    const up = server === null ? null : (server.metrics ?? this.#serverStats(server))
    if (up !== null) up.byClass[c] = (up.byClass[c] as number) + 1
  }

  /**
   * One finished WebSocket/Upgrade tunnel: counted by status class and bytes like a request, but not in the
   * latency histograms (a tunnel's lifetime is not a response time).
   */
  observeTunnel(t: Omit<ObservedExchange, 'tStart' | 'tConnect' | 'tHeaders'>): void {
    if (!this.enabled) return
    const c = classIndex(t.status)
    const route = t.route
    if (route !== null) {
      const r = this.#routeStats(route)
      if (r !== null) r.byClass[c] = (r.byClass[c] as number) + 1
    }
    const service = t.service
    const svc = service === null ? null : (service.metrics ?? this.#serviceStats(service))
    if (svc === null) {
      this.#unrouted[c] = (this.#unrouted[c] as number) + 1
      return
    }
    svc.byClass[c] = (svc.byClass[c] as number) + 1
    if (t.attempts > 1) svc.retries += t.attempts - 1
    svc.bytesIn += t.bytesIn
    svc.bytesOut += t.bytesOut
    const server = t.upstream
    const up = server === null ? null : (server.metrics ?? this.#serverStats(server))
    if (up !== null) up.byClass[c] = (up.byClass[c] as number) + 1
  }

  /** One closed TCP session (per connection, at its access-log line). */
  observeTcp(listener: string, server: CountedServer | null, bytesIn: number, bytesOut: number): void {
    if (!this.enabled) return
    const l = this.listener(listener)
    l.connections++
    l.bytesIn += bytesIn
    l.bytesOut += bytesOut
    const s = server === null ? null : (server.metrics ?? this.#serverStats(server))
    if (s === null) return
    s.tcpConnections++
    s.tcpBytesIn += bytesIn
    s.tcpBytesOut += bytesOut
  }

  /** A connection attempt to a server failed (error path only). */
  connectError(server: CountedServer, reason: ConnectErrorReason): void {
    if (!this.enabled) return
    const s = server.metrics ?? this.#serverStats(server)
    if (s === null) return
    const i = connectErrorReasons.indexOf(reason)
    s.connectErrors[i] = (s.connectErrors[i] as number) + 1
  }

  /** An active health check finished (once per check, off the request path). */
  checkDone(server: CountedServer, durationMs: number): void {
    if (!this.enabled) return
    const s = server.metrics ?? this.#serverStats(server)
    if (s !== null) s.checkDuration.observe(durationMs / 1000)
  }

  /**
   * This process's /metrics body, UTF-8 in chunks: prom-client's process metrics (when on), then every lb family
   * written straight to text (src/exposition.ts). Give it back with `release` once it has been written.
   */
  async exposition(): Promise<Buffer[]> {
    const process = this.registry.getMetricsAsArray().length === 0 ? '' : await this.registry.metrics()
    return joinFamilies(
      process,
      this.#collect('all', (def) => new TextFamily(def, this.#pool)),
    )
  }

  /**
   * A body of `exposition` or `aggregate` has been written (the response finished): the next scrape writes into
   * its Buffers. Not calling it is safe (the GC takes them); calling it while the body is still in use is not.
   */
  release(body: readonly Uint8Array[]): void {
    this.#pool.release(body)
  }

  /** `exposition()` as one string (tests, the CLI). */
  async text(): Promise<string> {
    return textOf(await this.exposition())
  }

  /**
   * A worker's part of a cluster scrape (`lb:metrics`): its traffic families as data (the control families are
   * the primary's), and prom-client's process metrics as JSON.
   */
  async reply(): Promise<MetricsReply> {
    return {
      process: await this.registry.getMetricsAsJSON(),
      families: this.#collect('worker', (def) => new DataFamily(def)).map((f) => f.data()),
    }
  }

  /**
   * The primary's /metrics in cluster mode (this is the primary's Metrics): the workers' traffic families
   * (`replies`, one per worker that answered in time) combined per series by each family's aggregator; then this
   * process's control families, written straight to text (only the primary has them); prom-client's process
   * metrics of every process aggregated by prom-client's rules (first); and how many workers did not answer.
   * Give it back with `release` once it has been written.
   */
  async aggregate(replies: readonly MetricsReply[], missing: number): Promise<Buffer[]> {
    const processJson: object[][] = []
    const traffic: FamilyData[][] = []
    for (const r of replies) {
      processJson.push(r.process.filter((m) => isProcessFamily(familyName(m))))
      traffic.push(r.families.filter((f) => !controlFamilies.has(f.name)))
    }
    processJson.push(await this.registry.getMetricsAsJSON())
    const registry = AggregatorRegistry.aggregate(processJson)
    const process = registry.getMetricsAsArray().length === 0 ? '' : await registry.metrics()
    const missingFamily = new TextFamily(workersMissing, this.#pool)
    missingFamily.add('', missing)
    return joinFamilies(process, [
      ...mergeFamilies(familyNames, traffic, this.#pool),
      ...this.#collect('control', (def) => new TextFamily(def, this.#pool)),
      missingFamily,
    ])
  }

  /**
   * Every family of `scope` read from the live stats and state, into one sink each (made by `make`, returned in
   * `families` order; a family with no samples still has its sink, so its HELP and TYPE are written).
   * Label values are escaped once per service, server, route or listener and shared by all of its lines.
   */
  #collect<S extends Samples>(scope: Scope, make: (def: FamilyDef) => S): S[] {
    const sinks: S[] = []
    const of = new Map<FamilyDef, S>()
    for (const def of familyList) {
      const control = controlFamilies.has(def.name)
      if (scope !== 'all' && control !== (scope === 'control')) continue
      const sink = make(def)
      sinks.push(sink)
      of.set(def, sink)
    }
    const get = (def: FamilyDef): S | null => of.get(def) ?? null
    this.#collectServices(get)
    this.#collectServers(get)
    this.#collectCounted(get)
    this.#collectTable(get)
    this.#collectControl(get)
    return sinks
  }

  /** Per service: request counters, latency histograms, queue length; per route: request counters. */
  #collectServices(get: (def: FamilyDef) => Samples | null): void {
    const requests = get(families.httpRequests)
    const duration = get(families.httpDuration)
    const upstream = get(families.upstreamDuration)
    const retries = get(families.httpRetries)
    const bytes = get(families.httpBytes)
    for (const s of this.#services.values()) {
      const l = `{service="${escapeLabel(s.name)}"`
      if (requests !== null) addClasses(requests, l, s.byClass)
      if (duration !== null) addHistogram(duration, l, s.total)
      if (upstream !== null) addHistogram(upstream, l, s.upstream)
      retries?.add(l + '}', s.retries)
      if (bytes !== null) {
        bytes.add(l + ',direction="in"}', s.bytesIn)
        bytes.add(l + ',direction="out"}', s.bytesOut)
      }
    }
    if (requests !== null) addClasses(requests, '{service="<none>"', this.#unrouted)
    const routes = get(families.routeRequests)
    if (routes !== null) {
      const rs = this.#routes
      for (let i = 0; i < rs.length; i++) {
        const r = rs[i]
        if (r !== undefined) addClasses(routes, `{route="${escapeLabel(r.label)}"`, r.byClass)
      }
    }
    const queue = get(families.queueLength)
    if (queue !== null)
      for (const svc of this.#current.services.values())
        queue.add(`{service="${escapeLabel(svc.spec.name)}"}`, svc.madeQueue?.length ?? 0)
  }

  /**
   * Every server of the table (made, or as it would be: `peekUpstreams`), in one pass for all the families that
   * list them: in-flight, state, weight, health checks.
   */
  #collectServers(get: (def: FamilyDef) => Samples | null): void {
    const inflight = get(families.serverInflight)
    const state = get(families.serverState)
    const weight = get(families.serverWeight)
    const checks = get(families.healthChecks)
    const durations = this.enabled ? get(families.healthDuration) : null
    if (inflight === null && state === null && weight === null && checks === null && durations === null)
      return
    for (const svc of this.#current.services.values()) {
      const ups = svc.peekUpstreams()
      if (ups.length === 0) continue
      const l = `{service="${escapeLabel(svc.spec.name)}",server="`
      for (let i = 0; i < ups.length; i++) {
        const u = ups[i] as Upstream
        const key = l + escapeLabel(u.name) + '"'
        inflight?.add(key + '}', u.inflight)
        if (state !== null) {
          const now = serverStateOf(u)
          for (let k = 0; k < serverStates.length; k++)
            state.add(key + (stateLabels[k] as string), k === now ? 1 : 0)
        }
        weight?.add(key + '}', u.effectiveWeight)
        const h = u.health
        if (h === null || !h.active) continue
        if (checks !== null) {
          checks.add(key + ',result="ok"}', h.checks - h.failedChecks)
          checks.add(key + ',result="failed"}', h.failedChecks)
        }
        if (durations !== null) {
          const s = u.metrics
          addHistogram(durations, key, s === null ? noChecks : s.checkDuration)
        }
      }
    }
  }

  /** The servers that counted something (HTTP, connect errors, TCP) and the TCP listeners. */
  #collectCounted(get: (def: FamilyDef) => Samples | null): void {
    const requests = get(families.serverRequests)
    const errors = get(families.connectErrors)
    const tcp = get(families.tcpServerConnections)
    const tcpBytes = get(families.tcpServerBytes)
    if (requests !== null || errors !== null || tcp !== null || tcpBytes !== null) {
      for (const [service, servers] of this.#servers) {
        const l = `{service="${escapeLabel(service)}",server="`
        for (const s of servers.values()) {
          const key = l + escapeLabel(s.server) + '"'
          if (requests !== null) addClasses(requests, key, s.byClass)
          if (errors !== null) {
            for (let i = 0; i < connectErrorReasons.length; i++) {
              const v = s.connectErrors[i] as number
              if (v > 0) errors.add(key + (reasonLabels[i] as string), v)
            }
          }
          if (s.tcpConnections === 0) continue
          tcp?.add(key + '}', s.tcpConnections)
          if (tcpBytes !== null) {
            tcpBytes.add(key + ',direction="in"}', s.tcpBytesIn)
            tcpBytes.add(key + ',direction="out"}', s.tcpBytesOut)
          }
        }
      }
    }
    const connections = get(families.tcpConnections)
    const bytes = get(families.tcpBytes)
    for (const l of this.#listeners.values()) {
      const key = `{listener="${escapeLabel(l.name)}"`
      connections?.add(key + '}', l.connections)
      if (bytes !== null) {
        bytes.add(key + ',direction="in"}', l.bytesIn)
        bytes.add(key + ',direction="out"}', l.bytesOut)
      }
    }
    const active = get(families.tcpActive)
    if (active !== null)
      for (const l of this.tcpListeners()) active.add(`{listener="${escapeLabel(l.name)}"}`, l.active)
  }

  #collectTable(get: (def: FamilyDef) => Samples | null): void {
    const c = this.#current
    get(families.tableVersion)?.add('', c.version)
    get(families.tableRoutes)?.add('', c.table === null ? 0 : c.table.size)
    get(families.tableServices)?.add('', c.services.size)
  }

  /** Reloads and Consul (the primary's control sources; nothing when they are not set). */
  #collectControl(get: (def: FamilyDef) => Samples | null): void {
    const c = this.control
    const reloads = get(families.reloads)
    if (c !== null && reloads !== null) {
      const r = c.reloads()
      reloads.add('{result="ok"}', r.ok)
      reloads.add('{result="failed"}', r.failed)
    }
    const age = get(families.watchDataAge)
    const errors = get(families.watchErrors)
    const errorsTotal = get(families.watchErrorsTotal)
    const index = get(families.watchLastIndex)
    if (age !== null || errors !== null || errorsTotal !== null || index !== null) {
      // One pass per family, as prom-client's collect did: the rows in the same order in each.
      const watches = this.#watches()
      for (const w of watches) age?.add(`{watch="${escapeLabel(w.name)}"}`, w.dataAge / 1000)
      for (const w of watches) errors?.add(`{watch="${escapeLabel(w.name)}"}`, w.errors)
      for (const w of watches) errorsTotal?.add(`{watch="${escapeLabel(w.name)}"}`, w.totalErrors)
      for (const w of watches) index?.add(`{watch="${escapeLabel(w.name)}"}`, w.lastIndex)
    }
    const problems = get(families.consulProblems)
    const consul = problems === null ? null : (this.control?.consul() ?? null)
    if (problems !== null && consul !== null) {
      for (const [kind, v] of Object.entries(consul.stats)) {
        if (kind === 'builds' || kind === 'emits' || typeof v !== 'number') continue
        problems.add(`{kind="${escapeLabel(kind)}"}`, v)
      }
    }
  }

  /** Consul watches: catalog and kv as they are; the per-service watches folded into one `services` row. */
  #watches(): WatchView[] {
    const consul = this.control?.consul() ?? null
    if (consul === null) return []
    const out: WatchView[] = []
    let services: {
      name: string
      lastIndex: number
      errors: number
      totalErrors: number
      dataAge: number
    } | null = null
    for (const w of consul.watches()) {
      if (w.name === 'catalog' || w.name === 'kv') {
        out.push(w)
        continue
      }
      if (services === null)
        services = { name: 'services', lastIndex: 0, errors: 0, totalErrors: 0, dataAge: 0 }
      services.lastIndex = Math.max(services.lastIndex, w.lastIndex)
      services.errors += w.errors
      services.totalErrors += w.totalErrors
      services.dataAge = Math.max(services.dataAge, w.dataAge)
    }
    if (services !== null) out.push(services)
    return out
  }
}

function noListeners(): Iterable<TcpListenerView> {
  return []
}

/** The status-class lines of a counter whose labels so far are `open` (`{service="a"`); only classes that counted. */
function addClasses(to: Samples, open: string, byClass: Float64Array): void {
  for (let i = 0; i < statusClasses.length; i++) {
    const v = byClass[i] as number
    if (v > 0) to.add(open + (codeLabels[i] as string), v)
  }
}

/** A histogram's cumulative buckets, sum and count; `open` = its labels so far (`{service="a"`), `le` last. */
function addHistogram(to: Samples, open: string, b: Buckets): void {
  const le = leLabels(b.bounds)
  let cumulative = 0
  for (let i = 0; i < le.length; i++) {
    cumulative += b.counts[i] as number
    to.add('_bucket' + open + (le[i] as string), cumulative)
  }
  to.add('_sum' + open + '}', b.sum)
  to.add('_count' + open + '}', b.count)
}

const codeLabels: readonly string[] = statusClasses.map((c) => `,code="${c}"}`)
const reasonLabels: readonly string[] = connectErrorReasons.map((r) => `,reason="${r}"}`)
const stateLabels: readonly string[] = serverStates.map((s) => `,state="${s}"}`)

/** `,le="<bound>"}` per bucket and `,le="+Inf"}`, per bucket list (there are two). */
const leCache = new Map<readonly number[], readonly string[]>()
function leLabels(bounds: readonly number[]): readonly string[] {
  let le = leCache.get(bounds)
  if (le === undefined) {
    le = [...bounds.map((b) => `,le="${b}"}`), ',le="+Inf"}']
    leCache.set(bounds, le)
  }
  return le
}

/** Whether `x` has the shape of a `MetricsReply` (it crossed the IPC channel). */
export function isMetricsReply(x: unknown): x is MetricsReply {
  if (typeof x !== 'object' || x === null) return false
  const r = x as { process?: unknown; families?: unknown }
  return Array.isArray(r.process) && Array.isArray(r.families) && r.families.every(isFamilyData)
}

function familyName(m: object): string {
  const name = (m as { name?: unknown }).name
  return typeof name === 'string' ? name : ''
}
