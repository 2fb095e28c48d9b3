/**
 * lb's metrics: each process owns a `Metrics` (no globals); a prom-client registry holds only prom-client's default
 * process metrics (made after the process's start: prom-client.ts). The families are defined once in families.ts, the
 * counters are stats.ts, a scrape is collect.ts written by exposition.ts, and the cluster aggregate is cluster.ts.
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
 * written straight to the exposition text by lb's own writer (exposition.ts; `text()`), without prom-client
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
import type { Registry } from 'prom-client'
import { promClient } from './prom-client.js'
import {
  ChunkPool,
  DataFamily,
  TextFamily,
  joinFamilies,
  textOf,
  type FamilyData,
  type FamilyDef,
  type Samples,
} from './exposition.js'
import {
  statusClasses,
  connectErrorReasons,
  sampledFamilies,
  type ConnectErrorReason,
  type Scope,
} from './families.js'
import {
  classIndex,
  ServiceStats,
  ServerStats,
  RouteStats,
  ListenerStats,
  type CountedService,
  type CountedServer,
  type MetricsRoute,
  type MetricsTable,
  type MetricsService,
  type ObservedExchange,
  type ControlSources,
  type TcpListenerView,
} from './stats.js'
import { type MetricsReply, aggregateReplies } from './cluster.js'
import { type ScrapeSource, collectFamilies } from './collect.js'

/** The process metrics start this long after the Metrics is made, or at the first scrape if that comes first. */
export const PROCESS_METRICS_DELAY = 5_000

export interface MetricsOptions {
  /**
   * prom-client default process metrics (the daemon's processes; tests leave them off). They start
   * PROCESS_METRICS_DELAY after the Metrics is made or at the first scrape (prom-client.ts), so the GC and
   * event-loop histograms count from then.
   */
  readonly processMetrics?: boolean
  /** false: nothing is counted per request (`metrics.enabled: false`); scrape-time families still work. */
  readonly enabled?: boolean
}

export class Metrics {
  readonly enabled: boolean
  readonly #processMetrics: boolean
  /** prom-client's registry of the process metrics, once asked for (`#registry()`). */
  #process: Promise<Registry> | null
  /** Set by the primary: reloads and Consul (null in a worker process). */
  control: ControlSources | null
  /** TCP listeners with their open sessions (set by the Worker). */
  tcpListeners: () => Iterable<TcpListenerView>
  #services: Map<string, ServiceStats>
  /** Server stats by service name, then server name (no `service/server` strings kept or made per swap). */
  #servers: Map<string, Map<string, ServerStats>>
  #routes: (RouteStats | undefined)[]
  #listeners: Map<string, ListenerStats>
  /** Requests answered without a service (no route, denied, redirect), by status class. */
  readonly #unrouted: Float64Array
  /** The Buffers scrape text is written into (kept across scrapes, see `release`). */
  readonly #pool: ChunkPool
  #current: {
    readonly table: MetricsTable | null
    readonly services: ReadonlyMap<string, MetricsService>
    readonly version: number
  }

  constructor(options: MetricsOptions = {}) {
    this.enabled = options.enabled ?? true
    this.#processMetrics = options.processMetrics === true
    this.#process = null
    this.control = null
    this.tcpListeners = noListeners
    this.#services = new Map()
    this.#servers = new Map()
    this.#routes = []
    this.#listeners = new Map()
    this.#unrouted = new Float64Array(statusClasses.length)
    this.#pool = new ChunkPool()
    this.#current = { table: null, services: new Map(), version: 0 }
    // A failed import shows at the next scrape, which awaits the same promise; here it must not go unhandled.
    if (this.#processMetrics)
      setTimeout(() => void this.#registry()?.catch(() => undefined), PROCESS_METRICS_DELAY).unref()
  }

  /** The process metrics' registry (null when they are off), made on the first call. */
  #registry(): Promise<Registry> | null {
    if (!this.#processMetrics) return null
    return (this.#process ??= promClient().then(({ Registry, collectDefaultMetrics }) => {
      const registry = new Registry()
      // The event-loop delay histogram samples the loop every `eventLoopMonitoringPrecision` ms: prom-client's
      // 10 ms default cost 0.6 % of a core in each idle process on the bench VM (three processes with two
      // workers), 100 ms costs 0.2 %; lags worth alerting on are far longer than that.
      collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 })
      return registry
    }))
  }

  /**
   * Table swap: hand the stats objects that exist (by name, so counters survive swaps) to the new table's
   * services, servers and routes, and forget the ones whose name is gone. Names that have not counted anything
   * get none (created on first use: `#serviceStats`, `#serverStats`, `#routeStats`). `changed`: the names of the
   * services whose runtime is new since the last sync (the others are the same objects, holding their stats
   * already), null = look at every service.
   */
  sync(
    table: MetricsTable,
    services: ReadonlyMap<string, MetricsService>,
    version: number,
    changed: ReadonlySet<string> | null = null,
  ): void {
    this.#current = { table, services, version }
    if (!this.enabled) return
    if (changed !== null) {
      for (const name of changed) {
        const svc = services.get(name)
        if (svc === undefined) {
          this.#services.delete(name)
          this.#servers.delete(name)
        } else this.#keepStats(svc, this.#services, this.#servers)
      }
    } else {
      const nextServices = new Map<string, ServiceStats>()
      const nextServers = new Map<string, Map<string, ServerStats>>()
      for (const svc of services.values()) this.#keepStats(svc, nextServices, nextServers)
      this.#services = nextServices
      this.#servers = nextServers
    }
    // Route stats whose route is still at its id in the new table stay (an updated table keeps its unchanged
    // routes); the others go to the route with their label (host + path), if there is one.
    const routes = this.#routes
    let lost: Map<string, RouteStats> | null = null
    for (let id = 0; id < routes.length; id++) {
      const r = routes[id]
      if (r === undefined || table.routes[id] === r.route) continue
      ;(lost ??= new Map()).set(r.label, r)
      routes[id] = undefined
    }
    if (lost !== null) {
      const hosts = new Set<string>()
      for (const r of lost.values()) hosts.add(r.route.host)
      // Only the lost routes' hosts' routes, when the table has them by host: walking all 20,000 routes of a
      // 10,000-service table took 0.75 ms of each delta a worker applied (a CPU profile).
      const byHost = table.hosts
      if (byHost !== undefined) {
        for (const host of hosts)
          for (const route of byHost.get(host)?.routes ?? []) carry(routes, lost, route)
      } else for (const route of table.routes) if (hosts.has(route.host)) carry(routes, lost, route)
    }
    if (routes.length > table.routes.length) routes.length = table.routes.length
  }

  /** Hand `svc` and its made upstreams the stats their names have, and note them in the maps given. */
  #keepStats(
    svc: MetricsService,
    services: Map<string, ServiceStats>,
    servers: Map<string, Map<string, ServerStats>>,
  ): void {
    const name = svc.spec.name
    const s = this.#services.size === 0 ? undefined : this.#services.get(name)
    svc.metrics = s ?? null
    if (s !== undefined) services.set(s.name, s)
    const counted = this.#servers.size === 0 ? undefined : this.#servers.get(name)
    let next: Map<string, ServerStats> | undefined
    // Upstreams not made yet have counted nothing (and get their stats on their first count).
    for (const u of svc.madeUpstreams ?? []) {
      const st = counted?.get(u.name)
      u.metrics = st ?? null
      if (st === undefined) continue
      if (next === undefined) next = new Map()
      next.set(u.name, st)
    }
    if (next !== undefined) servers.set(name, next)
    else servers.delete(name)
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

  /**
   * This process's /metrics body, UTF-8 in chunks: prom-client's process metrics (when on), then every lb family
   * written straight to text (src/metrics/exposition.ts). Give it back with `release` once it has been written.
   */
  async exposition(): Promise<Buffer[]> {
    const registry = await this.#registry()
    const process = registry === null ? '' : await registry.metrics()
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
      process: (await (await this.#registry())?.getMetricsAsJSON()) ?? [],
      families: this.#collect('worker', (def) => new DataFamily(def)).map((f) => f.data()),
    }
  }

  /** A worker's part of a dashboard sample (`lb:metrics` with `sample`): `trafficData`, no process metrics. */
  sampleReply(): MetricsReply {
    return { process: [], families: this.trafficData() }
  }

  /**
   * This process's traffic families the dashboard samples (`sampledFamilies`), as data as `reply` carries them
   * (src/metrics/dashboard.ts).
   */
  trafficData(): FamilyData[] {
    return this.#collect('worker', (def) => new DataFamily(def), sampledFamilies).map((f) => f.data())
  }

  /**
   * The primary's /metrics in cluster mode (this is the primary's Metrics): the workers' traffic families
   * (`replies`, one per worker that answered in time) combined per series by each family's aggregator; then this
   * process's control families, written straight to text (only the primary has them); prom-client's process
   * metrics of every process aggregated by prom-client's rules (first); and how many workers did not answer.
   * Give it back with `release` once it has been written.
   */
  async aggregate(replies: readonly MetricsReply[], missing: number): Promise<Buffer[]> {
    return aggregateReplies(await this.#registry(), this.#pool, replies, missing, () =>
      this.#collect('control', (def) => new TextFamily(def, this.#pool)),
    )
  }

  #collect<S extends Samples>(
    scope: Scope,
    make: (def: FamilyDef) => S,
    only: ReadonlySet<FamilyDef> | null = null,
  ): S[] {
    const src: ScrapeSource = {
      enabled: this.enabled,
      services: this.#services,
      servers: this.#servers,
      routes: this.#routes,
      listeners: this.#listeners,
      unrouted: this.#unrouted,
      current: this.#current,
      control: this.control,
      tcpListeners: this.tcpListeners,
    }
    return collectFamilies(src, scope, make, only)
  }
}

function noListeners(): Iterable<TcpListenerView> {
  return []
}

/** Give `route` the stats of the lost route with its label, if there is one. */
function carry(
  routes: (RouteStats | undefined)[],
  lost: ReadonlyMap<string, RouteStats>,
  route: MetricsRoute,
): void {
  const previous = lost.get(route.host + route.path)
  if (previous !== undefined) routes[route.id] = new RouteStats(route, previous)
}
