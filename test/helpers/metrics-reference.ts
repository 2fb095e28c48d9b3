/**
 * The prom-client implementation of lb's metric families as it was before lb wrote its own exposition text
 * (src/metrics.ts at 835e9f4, now src/metrics/, bookkeeping and families unchanged; the stats classes are imported, not copied).
 * Kept as the reference the writer is compared with (test/metrics/metrics-exposition.test.ts): prom-client formats,
 * escapes and aggregates the same counts, so the two texts must hold the same lines.
 */
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Registry,
  collectDefaultMetrics,
  type Aggregator,
  type Metric,
} from 'prom-client'
import type { ServiceRuntime, Upstream } from '../../src/proxy/upstream.js'
import type { RouteTable } from '../../src/route/table.js'
import type { MetricsOptions } from '../../src/metrics/metrics.js'
import {
  Buckets,
  ListenerStats,
  RouteStats,
  ServerStats,
  ServiceStats,
  type ControlSources,
  type CountedServer,
  type CountedService,
  type MetricsRoute,
  type ObservedExchange,
  type WatchView,
} from '../../src/metrics/stats.js'
import {
  checkBuckets,
  connectErrorReasons,
  controlFamilies,
  statusClasses,
  type ConnectErrorReason,
} from '../../src/metrics/families.js'

function classIndex(status: number): number {
  const i = ((status / 100) | 0) - 1
  return i >= 0 && i < 5 ? i : 5
}

/** Per-process families in cluster mode: prom-client's default metrics (every process reports its own). */
function isProcessFamily(name: string): boolean {
  return name.startsWith('process_') || name.startsWith('nodejs_')
}

interface TcpListenerView {
  readonly name: string
  readonly active: number
}

/** A histogram whose buckets are read from `Buckets` objects at scrape time (prom-client has no setter). */
class LiveHistogram {
  readonly name: string
  readonly help: string
  readonly type = 'histogram'
  readonly aggregator: Aggregator = 'sum'
  readonly #read: () => Iterable<readonly [Readonly<Record<string, string>>, Buckets]>
  constructor(
    name: string,
    help: string,
    read: () => Iterable<readonly [Readonly<Record<string, string>>, Buckets]>,
  ) {
    this.name = name
    this.help = help
    this.#read = read
  }
  get(): {
    name: string
    help: string
    type: string
    aggregator: Aggregator
    values: { labels: Record<string, string | number>; value: number; metricName: string }[]
  } {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = []
    for (const [labels, b] of this.#read()) {
      let cumulative = 0
      for (let i = 0; i <= b.bounds.length; i++) {
        cumulative += b.counts[i] as number
        const le = i < b.bounds.length ? (b.bounds[i] as number) : '+Inf'
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` })
      }
      values.push({ labels: { ...labels }, value: b.sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...labels }, value: b.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }
}

function serverStateOf(u: Upstream): 'up' | 'down' | 'drain' | 'maint' {
  if (u.admin === 'maint') return 'maint'
  if (u.admin === 'drain') return 'drain'
  return u.up ? 'up' : 'down'
}

const serverStates = ['up', 'down', 'drain', 'maint'] as const

/** The check-duration histogram of a checked server that has not finished a check yet. */
const noChecks = new Buckets(checkBuckets)

export class ReferenceMetrics {
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
    this.#current = { table: null, services: new Map(), version: 0 }
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry })
    this.#define()
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

  *#serverStatsAll(): IterableIterator<ServerStats> {
    for (const m of this.#servers.values()) yield* m.values()
  }

  #inTable(up: CountedServer): boolean {
    const svc = this.#current.services.get(up.service)
    if (svc === undefined) return false
    for (const u of svc.upstreams) if (u.name === up.name) return true
    return false
  }

  /** The stats of `route`, created on its first count; null when `route` is not of the current table. */
  #routeStats(route: MetricsRoute): RouteStats | null {
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

  #define(): void {
    const registers = [this.registry]
    const counter = (
      name: string,
      help: string,
      labelNames: readonly string[],
      fill: (m: Counter) => void,
    ): void => {
      const m: Counter = new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          m.reset()
          fill(m)
        },
      })
    }
    const gauge = (
      name: string,
      help: string,
      labelNames: readonly string[],
      aggregator: Aggregator,
      fill: (m: Gauge) => void,
    ): void => {
      const m: Gauge = new Gauge({
        name,
        help,
        labelNames,
        aggregator,
        registers,
        collect() {
          m.reset()
          fill(m)
        },
      })
    }
    const histogram = (
      name: string,
      help: string,
      read: () => Iterable<readonly [Readonly<Record<string, string>>, Buckets]>,
    ): void => {
      this.registry.registerMetric(new LiveHistogram(name, help, read) as unknown as Metric)
    }

    // Requests.
    counter(
      'lb_http_requests_total',
      'HTTP requests answered, by service (<none>: no route, denied or redirected) and status class (none = no status sent)',
      ['service', 'code'],
      (m) => {
        for (const s of this.#services.values()) addClasses(m, { service: s.name }, s.byClass)
        addClasses(m, { service: '<none>' }, this.#unrouted)
      },
    )
    counter(
      'lb_http_route_requests_total',
      'HTTP requests answered, by route (host + path) and status class',
      ['route', 'code'],
      (m) => {
        for (const r of this.#routes) if (r !== undefined) addClasses(m, { route: r.label }, r.byClass)
      },
    )
    counter(
      'lb_http_server_requests_total',
      'HTTP requests answered, by the server that handled the last attempt and status class',
      ['service', 'server', 'code'],
      (m) => {
        for (const s of this.#serverStatsAll())
          addClasses(m, { service: s.service, server: s.server }, s.byClass)
      },
    )
    histogram('lb_http_request_duration_seconds', 'Request start to response end, by service', () =>
      mapped(this.#services.values(), (s) => [{ service: s.name }, s.total]),
    )
    histogram(
      'lb_http_upstream_duration_seconds',
      'Connected to response headers (haproxy Tr), by service, for requests that reached a server',
      () => mapped(this.#services.values(), (s) => [{ service: s.name }, s.upstream]),
    )
    counter(
      'lb_http_retries_total',
      'Extra attempts (retries) made for requests, by service',
      ['service'],
      (m) => {
        for (const s of this.#services.values()) m.inc({ service: s.name }, s.retries)
      },
    )
    counter(
      'lb_http_bytes_total',
      'HTTP body bytes: in = read from clients (request bodies), out = response bodies sent, by service',
      ['service', 'direction'],
      (m) => {
        for (const s of this.#services.values()) {
          m.inc({ service: s.name, direction: 'in' }, s.bytesIn)
          m.inc({ service: s.name, direction: 'out' }, s.bytesOut)
        }
      },
    )
    gauge(
      'lb_server_inflight',
      'Requests and TCP connections in progress, by server',
      ['service', 'server'],
      'sum',
      (m) => {
        for (const u of this.#upstreams()) m.set({ service: u.service, server: u.name }, u.inflight)
      },
    )
    gauge(
      'lb_service_queue_length',
      'Requests waiting for a server slot (maxconn), by service',
      ['service'],
      'sum',
      (m) => {
        for (const svc of this.#current.services.values())
          m.set({ service: svc.spec.name }, svc.madeQueue?.length ?? 0)
      },
    )
    counter(
      'lb_upstream_connect_errors_total',
      'Failed connection attempts to servers, by reason',
      ['service', 'server', 'reason'],
      (m) => {
        for (const s of this.#serverStatsAll()) {
          for (let i = 0; i < connectErrorReasons.length; i++) {
            const v = s.connectErrors[i] as number
            if (v > 0)
              m.inc({ service: s.service, server: s.server, reason: connectErrorReasons[i] as string }, v)
          }
        }
      },
    )

    // TCP.
    counter('lb_tcp_connections_total', 'TCP connections closed, by listener', ['listener'], (m) => {
      for (const l of this.#listeners.values()) m.inc({ listener: l.name }, l.connections)
    })
    gauge('lb_tcp_connections_active', 'Open TCP connections, by listener', ['listener'], 'sum', (m) => {
      for (const l of this.tcpListeners()) m.set({ listener: l.name }, l.active)
    })
    counter(
      'lb_tcp_bytes_total',
      'TCP bytes by listener: in = from clients, out = to clients (counted when a connection closes)',
      ['listener', 'direction'],
      (m) => {
        for (const l of this.#listeners.values()) {
          m.inc({ listener: l.name, direction: 'in' }, l.bytesIn)
          m.inc({ listener: l.name, direction: 'out' }, l.bytesOut)
        }
      },
    )
    counter(
      'lb_tcp_server_connections_total',
      'TCP connections closed, by server',
      ['service', 'server'],
      (m) => {
        for (const s of this.#serverStatsAll())
          if (s.tcpConnections > 0) m.inc({ service: s.service, server: s.server }, s.tcpConnections)
      },
    )
    counter(
      'lb_tcp_server_bytes_total',
      'TCP bytes by server: in = from clients, out = to clients',
      ['service', 'server', 'direction'],
      (m) => {
        for (const s of this.#serverStatsAll()) {
          if (s.tcpConnections === 0) continue
          m.inc({ service: s.service, server: s.server, direction: 'in' }, s.tcpBytesIn)
          m.inc({ service: s.service, server: s.server, direction: 'out' }, s.tcpBytesOut)
        }
      },
    )

    // Servers and health.
    gauge(
      'lb_server_state',
      'Server state: 1 for the current one of up, down, drain, maint',
      ['service', 'server', 'state'],
      'max',
      (m) => {
        for (const u of this.#upstreams()) {
          const now = serverStateOf(u)
          for (const state of serverStates)
            m.set({ service: u.service, server: u.name, state }, state === now ? 1 : 0)
        }
      },
    )
    gauge(
      'lb_server_weight',
      'Effective weight of each server (after runtime changes and slowstart)',
      ['service', 'server'],
      'max',
      (m) => {
        for (const u of this.#upstreams()) m.set({ service: u.service, server: u.name }, u.effectiveWeight)
      },
    )
    counter(
      'lb_server_health_checks_total',
      'Active health checks run, by server and result',
      ['service', 'server', 'result'],
      (m) => {
        for (const u of this.#upstreams()) {
          const h = u.health
          if (h === null || !h.active) continue
          m.inc({ service: u.service, server: u.name, result: 'ok' }, h.checks - h.failedChecks)
          m.inc({ service: u.service, server: u.name, result: 'failed' }, h.failedChecks)
        }
      },
    )
    histogram('lb_server_health_check_duration_seconds', 'Active health-check duration, by server', () => {
      const out: (readonly [Record<string, string>, Buckets])[] = []
      if (!this.enabled) return out
      for (const u of this.#upstreams()) {
        if (u.health === null || !u.health.active) continue
        const s = u.metrics
        out.push([{ service: u.service, server: u.name }, s === null ? noChecks : s.checkDuration])
      }
      return out
    })

    // Table.
    gauge(
      'lb_route_table_version',
      'Route table version in use (cluster: the oldest any worker serves)',
      [],
      'min',
      (m) => m.set(this.#current.version),
    )
    gauge('lb_route_table_routes', 'HTTP routes in the table', [], 'max', (m) =>
      m.set(this.#current.table === null ? 0 : this.#current.table.size),
    )
    gauge('lb_route_table_services', 'Services in the table', [], 'max', (m) =>
      m.set(this.#current.services.size),
    )

    // Control plane (primary).
    counter('lb_config_reloads_total', 'Configuration reloads, by result', ['result'], (m) => {
      const c = this.control
      if (c === null) return
      const r = c.reloads()
      m.inc({ result: 'ok' }, r.ok)
      m.inc({ result: 'failed' }, r.failed)
    })
    gauge(
      'lb_consul_watch_data_age_seconds',
      'Seconds since the Consul watch last answered (catalog, kv; services = the oldest service watch)',
      ['watch'],
      'max',
      (m) => {
        for (const w of this.#watches()) m.set({ watch: w.name }, w.dataAge / 1000)
      },
    )
    gauge(
      'lb_consul_watch_errors',
      'Consecutive errors of the Consul watch (0 after a success; services = the sum)',
      ['watch'],
      'max',
      (m) => {
        for (const w of this.#watches()) m.set({ watch: w.name }, w.errors)
      },
    )
    counter('lb_consul_watch_errors_total', 'Errors of the Consul watch', ['watch'], (m) => {
      for (const w of this.#watches()) m.inc({ watch: w.name }, w.totalErrors)
    })
    gauge(
      'lb_consul_watch_last_index',
      'Last Consul index of the watch (services = the highest)',
      ['watch'],
      'max',
      (m) => {
        for (const w of this.#watches()) m.set({ watch: w.name }, w.lastIndex)
      },
    )
    counter(
      'lb_consul_problems_total',
      'Consul routing input lb could not use: dropped tags or route commands, warnings, agent errors',
      ['kind'],
      (m) => {
        const consul = this.control?.consul() ?? null
        if (consul === null) return
        for (const [kind, v] of Object.entries(consul.stats)) {
          if (kind === 'builds' || kind === 'emits' || typeof v !== 'number') continue
          m.inc({ kind }, v)
        }
      },
    )
    gauge(
      'lb_tls_certificate_expiry_timestamp_seconds',
      'When each certificate of a TLS listener expires (its notAfter, Unix seconds), by listener, name and file',
      ['listener', 'name', 'file'],
      'max',
      (m) => {
        const certs = this.control?.certificates?.() ?? []
        for (const x of certs) m.set({ listener: x.listener, name: x.name, file: x.file }, x.notAfter)
      },
    )
  }

  /** Every server, as made or (not made yet) as it would be: a scrape does not make them for good. */
  *#upstreams(): Generator<Upstream> {
    for (const svc of this.#current.services.values()) yield* svc.peekUpstreams()
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

function addClasses(m: Counter, labels: Record<string, string>, byClass: Float64Array): void {
  for (let i = 0; i < statusClasses.length; i++) {
    const v = byClass[i] as number
    if (v > 0) m.inc({ ...labels, code: statusClasses[i] as string }, v)
  }
}

function* mapped<T, R>(items: Iterable<T>, f: (t: T) => R): Generator<R> {
  for (const t of items) yield f(t)
}

/**
 * The primary's /metrics in cluster mode: the workers' traffic families (`replies`, one per worker that answered
 * in time) plus the primary's own control-plane families and process metrics (`own`), aggregated; and how many
 * workers did not answer.
 */
export function referenceAggregate(
  replies: readonly object[][],
  missing: number,
  own: readonly object[] = [],
): Registry {
  const all: object[][] = []
  for (const r of replies) all.push(r.filter((m) => !controlFamilies.has(familyName(m))))
  all.push(own.filter((m) => controlFamilies.has(familyName(m)) || isProcessFamily(familyName(m))))
  const registry = AggregatorRegistry.aggregate<'text/plain; version=0.0.4; charset=utf-8'>(all)
  const gauge = new Gauge({
    name: 'lb_metrics_workers_missing',
    help: 'Workers that did not answer this scrape in time (their numbers are left out)',
    registers: [registry],
  })
  gauge.set(missing)
  return registry
}

function familyName(m: object): string {
  const name = (m as { name?: unknown }).name
  return typeof name === 'string' ? name : ''
}
