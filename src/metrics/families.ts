/**
 * Every lb metric family, defined once (`families`): name, help, type, and how the cluster primary combines the
 * workers' copies (`aggregator`). Which families only the primary reports (`controlFamilies`), and the label
 * values shared by counting and writing (status classes, connect-error reasons, server states, buckets).
 */
import type { Aggregator, FamilyDef, FamilyType } from './exposition.js'

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

/** Families the primary reports itself in cluster mode (the workers' copies are dropped). */
export const controlFamilies: ReadonlySet<string> = new Set([
  'lb_config_reloads_total',
  'lb_consul_watch_data_age_seconds',
  'lb_consul_watch_errors',
  'lb_consul_watch_errors_total',
  'lb_consul_watch_last_index',
  'lb_consul_problems_total',
  'lb_tls_certificate_expiry_timestamp_seconds',
  'lb_server_state',
  'lb_server_health_checks_total',
  'lb_server_health_check_duration_seconds',
  'lb_server_weight',
])

/** Per-process families in cluster mode: prom-client's default metrics (every process reports its own). */
export function isProcessFamily(name: string): boolean {
  return name.startsWith('process_') || name.startsWith('nodejs_')
}

/** Server states, `lb_server_state{state}` (one-hot per server, as haproxy's exporter). */
export const serverStates = ['up', 'down', 'drain', 'maint'] as const

function family(name: string, help: string, type: FamilyType, aggregator: Aggregator = 'sum'): FamilyDef {
  return { name, help, type, aggregator }
}

/** Every lb family, in the order of the text; `aggregator` = how the cluster primary combines workers' copies. */
export const families = {
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
  tlsCertificateExpiry: family(
    'lb_tls_certificate_expiry_timestamp_seconds',
    'When each certificate of a TLS listener expires (its notAfter, Unix seconds), by listener, name and file',
    'gauge',
    'max',
  ),
} as const satisfies Record<string, FamilyDef>

export const familyList: readonly FamilyDef[] = Object.values(families)

/**
 * The families the admin dashboard samples (src/metrics/dashboard.ts): a sample collects only these, not a whole
 * scrape (at 10,000 services × 3 a whole scrape every `admin.sample_interval` was most of an idle lb's CPU).
 */
export const sampledFamilies: ReadonlySet<FamilyDef> = new Set([
  families.httpRequests,
  families.httpDuration,
  families.httpBytes,
  families.queueLength,
  families.serverInflight,
  families.serverRequests,
])

/** The cluster aggregate's own gauge. */
export const workersMissing = family(
  'lb_metrics_workers_missing',
  'Workers that did not answer this scrape in time (their numbers are left out)',
  'gauge',
)

/** Every family a worker's reply may carry, by name (the primary drops names it does not know). */
export const familyNames: ReadonlyMap<string, FamilyDef> = new Map(familyList.map((f) => [f.name, f]))

/** Which families a collection writes: all (single process), a worker's, or the primary's control families. */
export type Scope = 'all' | 'worker' | 'control'
