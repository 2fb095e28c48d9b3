/**
 * The counters lb keeps per service, server, route and TCP listener (plain number fields, added to once per
 * request where the access log is written), and the interfaces through which metrics read the routing state:
 * metrics depend on model/ only, and the proxy's objects (`ServiceRuntime`, `Upstream`, the route table) fit
 * these interfaces.
 */
import { statusClasses, connectErrorReasons, latencyBuckets, checkBuckets } from './families.js'

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

export function classIndex(status: number): number {
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
  readonly route: MetricsRoute
  readonly label: string
  readonly byClass: Float64Array
  constructor(route: MetricsRoute, previous: RouteStats | undefined) {
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

/** A route as metrics read it (src/route/table.ts `Route`); the object's identity tells tables apart. */
export interface MetricsRoute {
  readonly id: number
  readonly host: string
  readonly path: string
}

/** The route table as metrics read it (src/route/table.ts `RouteTable`). */
export interface MetricsTable {
  readonly routes: readonly MetricsRoute[]
  readonly size: number
  /** Each host key's routes (a RouteTable has them): where a lost route's stats look for their successor. */
  readonly hosts?: ReadonlyMap<string, { readonly routes: readonly MetricsRoute[] }>
}

/** A server as a scrape reads it (src/proxy/upstream.ts `Upstream`). */
export interface MetricsServer extends CountedServer {
  readonly inflight: number
  readonly admin: string
  readonly up: boolean
  readonly effectiveWeight: number
  /** Active-check counters; null = not checked. */
  readonly health: { readonly active: boolean; readonly checks: number; readonly failedChecks: number } | null
}

/** A service as a scrape reads it (src/proxy/upstream.ts `ServiceRuntime`). */
export interface MetricsService extends CountedService {
  /** Its servers if they have been made (they are made on first use), else null. */
  readonly madeUpstreams: readonly MetricsServer[] | null
  readonly upstreams: readonly MetricsServer[]
  /** The servers as they are, or as they would be when not made yet (without making them). */
  peekUpstreams(): readonly MetricsServer[]
  readonly madeQueue: { readonly length: number } | null
}

/** What `observeHttp` reads from a finished exchange (src/proxy/exchange.ts `Exchange`); ms clock values. */
export interface ObservedExchange {
  readonly route: MetricsRoute | null
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
  /** The certificates of the TLS listeners of the running configuration (absent: none). */
  certificates?(): Iterable<CertificateView>
}

export interface CertificateView {
  readonly listener: string
  /** The first name the certificate serves. */
  readonly name: string
  readonly file: string
  /** notAfter, Unix seconds. */
  readonly notAfter: number
}

export interface TcpListenerView {
  readonly name: string
  readonly active: number
}
