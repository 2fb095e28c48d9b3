/**
 * The configuration tree: one typed object, defaults in one literal (STYLE §8).
 * YAML keys are snake_case; this tree is the camelCase result of loading and validating them.
 * Durations are milliseconds. Pure: no I/O here (load.ts reads files and the environment).
 */
import type { ConfigProblem } from '../errors.js'
import type { BalanceName, HttpRouteSpec, Redirect, ServerState } from '../snapshot.js'
import type { HealthCheckSpec, ObserveSpec, StatusRange } from '../snapshot.js'
import type { HostPort, HostPortRules, Parsed } from './address.js'
import { parseCidr } from '../net/cidr.js'
import { normalizeRouteKey } from '../route/host.js'
import { globProblem, isGlob } from '../route/glob.js'
import { parseHtpasswd } from '../route/auth.js'
import { compileAccessFormat } from '../log-format.js'
import { formatHostPort, isHostname, isIPv4, isIPv6, parseHostPort } from './address.js'
import { formatDuration, parseDuration } from './duration.js'
import { applyCommands, parseCommands, toSnapshot, type Ir } from '../provider/routecmd.js'

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T

export type { PathMatch } from '../snapshot.js'
import type { PathMatch } from '../snapshot.js'
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'

export type ListenerConfig = HttpListenerConfig | TcpListenerConfig

export interface HttpListenerConfig {
  /** Unique name, default `<mode>-<port>`. */
  name: string
  /** Bind host ('' = all interfaces) and port (0 = ephemeral, used by tests). */
  host: string
  port: number
  mode: 'http'
  /** Expect a PROXY protocol v1/v2 header on every connection (haproxy `accept-proxy`). Present only when set. */
  acceptProxy?: boolean
  /** Open client connections on this listener above which new ones are closed at once. Present only when set. */
  maxconn?: number
}

/** A TCP SNI route on a tcp listener: ClientHello server name (exact, or `*.suffix`) → service. */
export interface SniRouteConfig {
  serverName: string
  service: string
}

/** `mode: tcp` listeners (haproxy `mode tcp` frontend + `default_backend`). */
export interface TcpListenerConfig {
  name: string
  host: string
  port: number
  mode: 'tcp'
  acceptProxy: boolean
  /** Default service ('' = only `sni_routes`, or TCP routes from providers on this port). */
  service: string
  /** Route by the TLS ClientHello server name; TLS passes through untouched. */
  sniRoutes: SniRouteConfig[]
  timeouts: TcpTimeouts
}

export interface TcpTimeouts {
  /** Client inactivity before the tunnel is up, and the bound on reading a PROXY header / ClientHello. */
  client: number
  /** Server inactivity when no tunnel timeout is set. */
  server: number
  /** Inactivity (either direction) once connected; replaces client/server (haproxy `timeout tunnel`). */
  tunnel: number
}

/** Defaults of a `mode: tcp` listener (haproxy advice: client = server in TCP mode; watches need a long tunnel). */
export const tcpListenerDefaults: DeepReadonly<Omit<TcpListenerConfig, 'name' | 'host' | 'port'>> = {
  mode: 'tcp',
  acceptProxy: false,
  service: '',
  sniRoutes: [],
  timeouts: { client: 60_000, server: 60_000, tunnel: 3_600_000 },
}

/** The values a `check:` block starts from (haproxy: inter 2s, rise 2, fall 3; timeout 0 = inter). */
export const checkDefaults: HealthCheckSpec = {
  source: 'active',
  type: 'tcp',
  inter: 2_000,
  fastinter: 0,
  downinter: 0,
  rise: 2,
  fall: 3,
  timeout: 0,
  port: 0,
  address: '',
  spread: 0,
  initState: 'up',
  http: { method: 'GET', path: '/', host: '', expectStatus: [{ lo: 200, hi: 399 }] },
  tls: { ca: '', skipVerify: false, sni: '' },
}

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

export interface ServerConfig {
  name: string
  host: string
  port: number
  weight: number
  backup: boolean
  maxconn: number
  state: Extract<ServerState, 'up' | 'drain' | 'maint'>
  /** false = never actively checked (haproxy: no `check` on this server). */
  check: boolean
}

export interface ServiceConfig extends ServiceHealthOptions {
  name: string
  balance: BalanceName
  retries: number
  maxConnections: number
  proto: 'http' | 'https'
  tlsSkipVerify: boolean
  timeouts: UpstreamTimeouts
  servers: ServerConfig[]
}

export type RouteConfig = Omit<HttpRouteSpec, 'source'>

export interface HttpConfig {
  /** CIDRs whose X-Forwarded-* / Forwarded / X-Real-IP headers are trusted. */
  trustedProxies: string[]
  /** Request-id header name; '' disables. Generated when absent, echoed on the response. */
  requestIdHeader: string
  /** Header set to the client IP upstream (fabio `proxy.header.clientip`); '' = none. */
  clientIpHeader: string
  /** lb's own address for `by=` in Forwarded (fabio `proxy.localip`); '' = none. */
  localIp: string
  /** Authentication schemes routes name with `auth` (fabio `proxy.auth`). */
  auth: AuthSchemeSpec[]
  /** The answer when no route matches (fabio `proxy.noroutestatus` and its noroute.html). */
  noRoute: NoRouteConfig
  /**
   * Response Content-Types lb compresses with gzip (a regular expression, fabio `proxy.gzip.contenttype`) when the
   * client accepts gzip and the server did not encode the body; '' = off.
   */
  gzipContentTypes: string
  pathMatch: PathMatch
  /** Bytes of request line + headers accepted (431 above). */
  maxHeaderSize: number
  /** Open client connections over all HTTP listeners of a worker; new ones above it are closed; 0 = no limit. */
  maxconn: number
  timeouts: {
    /** Complete request headers must arrive within this (408). */
    httpRequest: number
    /** Client inactivity while a request is in progress. */
    client: number
    /** Idle time between requests on a client keep-alive connection. */
    keepAlive: number
    /** Inactivity on an upgraded (WebSocket) tunnel. */
    tunnel: number
  }
}

/** fabio `proxy.auth = name=<n>;type=basic;file=<htpasswd>;realm=<r>`: the htpasswd file's content is read. */
export interface AuthSchemeSpec {
  name: string
  type: 'basic'
  realm: string
  htpasswd: string
}

export interface NoRouteConfig {
  /** Status of the answer (fabio default 404). */
  status: number
  /** HTML body ('' = lb's plain-text line naming host and path). Consul KV `consul.no_route_key` replaces it. */
  page: string
}

export interface LogConfig {
  level: LogLevel
  /** 'stderr', 'stdout' or a file path. */
  destination: string
  access: AccessLogConfig
}

/** `json`, `httplog` (haproxy), or fabio's `common`, `combined` or a `$field` template (src/log-format.ts). */
export type AccessLogFormat = string
export const accessLogFormats: readonly string[] = ['json', 'httplog', 'common', 'combined']

/**
 * Which requests get an access-log line: those matching any filter that is set (`status`, `slowMs`, `errors`; none
 * set = every request), then one in `sample` of them.
 */
export interface AccessLogConfig {
  enabled: boolean
  destination: string
  /** `json` (one object per line) or haproxy `option httplog`-style text. */
  format: AccessLogFormat
  /** Log one line in N (1 = all). */
  sample: number
  /** Status ranges to log ([] = no status filter). */
  status: StatusRange[]
  /** Log requests slower than this many ms (0 = no slow filter). */
  slowMs: number
  /** Log failed requests: 5xx, no response, retried, or ended abnormally (termination state other than `--`). */
  errors: boolean
}

export interface MetricsConfig {
  /** false: no per-request counting (scrape-time metrics such as server state still work). */
  enabled: boolean
}

export interface AdminConfig {
  /** '' host = loopback only is NOT implied; the default literal sets 127.0.0.1. port 0 disables the admin server. */
  host: string
  port: number
  /** Bearer token for changes; '' = changes disabled. Never logged. */
  token: string
  /**
   * Host names (lower-case, no port) the admin server answers to besides IP literals and `localhost`: a request
   * with any other Host is refused (421), so a page in an operator's browser cannot reach the API through DNS
   * rebinding.
   */
  allowedHosts: string[]
}

export interface ResolverConfig {
  /** Upper bound on how long a resolved address is used before re-resolving (record TTLs are honoured below it). */
  maxTtl: number
  /** Lower bound, so a 0-TTL record does not cause a lookup per request. */
  minTtl: number
  /** Retry interval after a failed resolution. */
  retry: number
  /** Number of hostnames kept. */
  cacheSize: number
}

export type ConsulConsistency = 'default' | 'stale' | 'consistent'
/** How instances are watched: see README "Consul discovery" and provider/consul/consul.ts. */
export type ConsulWatchMode = 'auto' | 'service' | 'state'
export type ConsulStatus = 'passing' | 'warning'

/** Consul discovery (src/provider/consul/). Used only when `enabled` (the `consul:` section is present). */
export interface ConsulConfig {
  enabled: boolean
  /** Agent/server addresses as `host:port`, tried in order (local agent first); the next one after an error. */
  addresses: string[]
  scheme: 'http' | 'https'
  tls: {
    /** PEM text (usually given as `ca_file`, `cert_file`, `key_file`: the generic `<key>_file` rule). */
    ca: string
    cert: string
    key: string
    skipVerify: boolean
  }
  /** ACL token sent as `X-Consul-Token`; '' = the agent's default token. Never logged. */
  token: string
  /** '' = the agent's datacenter (read from /v1/agent/self; also the value of ${DC} in tags). */
  datacenter: string
  consistency: ConsulConsistency
  /** Blocking query `wait` (Consul caps it at 10 min). */
  wait: number
  /** Instance health states that are routed; always includes passing. */
  status: ConsulStatus[]
  /** Route instances that have no health check at all (fabio never does). */
  routeWithoutChecks: boolean
  tagPrefix: string
  /** KV prefix of route commands ('' = off); the key and all sub-keys, in key order. */
  kvPath: string
  /** Concurrent non-blocking fetches (first read of each service; every read in `state` mode). */
  fanout: number
  /**
   * `service`: one blocking query per routed service; `state`: one blocking query on `/v1/health/state/any`
   * plus non-blocking reads of the services whose checks changed (fabio's model); `auto`: `service` up to
   * `stateThreshold` routed services, `state` above.
   */
  watch: ConsulWatchMode
  stateThreshold: number
  /** Token bucket per watch: one request token per `interval`, at most `burst` saved. */
  rateLimit: { interval: number; burst: number }
  /** Retry delay after an error: exponential from `min` to `max`, with full jitter. */
  backoff: { min: number; max: number }
  /** Watcher throttle window: at most one route table rebuild per window (the first change goes at once). */
  throttle: number
  /** KV key of the no-route HTML page (fabio `registry.consul.noroutehtmlpath`); '' = none. Watched. */
  noRouteKey: string
  /** lb registers itself in Consul (fabio `registry.consul.register.*`). */
  register: ConsulRegisterConfig
}

export interface ConsulRegisterConfig {
  enabled: boolean
  /** Service name (fabio `register.name`, default `fabio`; lb's default `lb`). */
  name: string
  /** `host:port` registered and checked at `/health`; '' = the admin address (a wildcard host: this machine's IP). */
  address: string
  tags: string[]
  checkInterval: number
  checkTimeout: number
  /** Consul removes the registration after its check was critical this long. */
  deregisterCriticalAfter: number
}

export interface MutableConfig {
  /** Absolute path of the file this came from ('' when built in code). */
  file: string
  listeners: ListenerConfig[]
  defaults: ServiceDefaults
  services: ServiceConfig[]
  routes: RouteConfig[]
  http: HttpConfig
  log: LogConfig
  metrics: MetricsConfig
  admin: AdminConfig
  resolver: ResolverConfig
  consul: ConsulConfig
  /** Route commands (fabio's language) for the file provider, one per line ('' = none). */
  routeCommands: string
  /** Serving processes: 0 or 1 = one process (primary serves), N ≥ 2 = cluster, 'auto' = available cores. */
  workers: number | 'auto'
  shutdown: ShutdownConfig
  /** Where the running daemon writes its pid ('' = none); `lb reload` signals it when the admin API is off. */
  pidFile: string
  /**
   * fabio's `tcp-dynamic` listener: routes `<ip>:<port> proto=tcp` (Consul tags, route commands) open a TCP
   * listener on that address, closed when the route goes. Off by default (a tag then opens no socket).
   */
  tcpDynamic: boolean
}

export interface ShutdownConfig {
  /** After /health fails, keep accepting this long so keepalived/nginx move away (production: 5s). */
  grace: number
  /** Then stop listening and let in-flight requests finish up to this long; tunnels close at the deadline. */
  timeout: number
}

export type Config = DeepReadonly<MutableConfig>

/** Every default in one literal. Tests express expectations as edits to a clone of this. */
export const defaultConfig: Config = {
  file: '',
  listeners: [{ name: 'http-9999', host: '', port: 9999, mode: 'http' }],
  defaults: {
    balance: 'roundrobin',
    retries: 2,
    maxConnections: 256,
    timeouts: { connect: 5_000, server: 60_000, body: 60_000, keepAlive: 4_000 },
    check: null,
    observe: null,
    slowstart: 0,
    maxqueue: 0,
    onMarkedDown: 'none',
    sendProxy: 'none',
  },
  services: [],
  routes: [],
  http: {
    trustedProxies: [],
    requestIdHeader: '',
    clientIpHeader: '',
    localIp: '',
    auth: [],
    noRoute: { status: 404, page: '' },
    gzipContentTypes: '',
    pathMatch: 'prefix',
    maxHeaderSize: 16_384,
    maxconn: 0,
    timeouts: { httpRequest: 10_000, client: 60_000, keepAlive: 5_000, tunnel: 3_600_000 },
  },
  log: {
    level: 'info',
    destination: 'stderr',
    access: {
      enabled: true,
      destination: 'stdout',
      format: 'json',
      sample: 1,
      status: [],
      slowMs: 0,
      errors: false,
    },
  },
  metrics: { enabled: true },
  admin: { host: '127.0.0.1', port: 9998, token: '', allowedHosts: [] },
  resolver: { maxTtl: 30_000, minTtl: 1_000, retry: 5_000, cacheSize: 1_024 },
  consul: {
    enabled: false,
    addresses: ['127.0.0.1:8500'],
    scheme: 'http',
    tls: { ca: '', cert: '', key: '', skipVerify: false },
    token: '',
    datacenter: '',
    consistency: 'default',
    wait: 300_000,
    status: ['passing'],
    routeWithoutChecks: false,
    tagPrefix: 'urlprefix-',
    kvPath: 'fabio/config',
    fanout: 32,
    watch: 'auto',
    stateThreshold: 150,
    rateLimit: { interval: 200, burst: 5 },
    backoff: { min: 250, max: 30_000 },
    throttle: 50,
    noRouteKey: 'fabio/noroute.html',
    register: {
      enabled: false,
      name: 'lb',
      address: '',
      tags: [],
      checkInterval: 1_000,
      checkTimeout: 3_000,
      deregisterCriticalAfter: 60_000,
    },
  },
  routeCommands: '',
  workers: 0,
  shutdown: { grace: 0, timeout: 10_000 },
  pidFile: '',
  tcpDynamic: false,
}

// ---------------------------------------------------------------------------------------------------------------
// Names. Each list is the single source of its valid values; the compile-time checks below fail when a union
// in snapshot.ts (or above) gains a member that a list does not name.

export const balanceNames = [
  'roundrobin',
  'static-rr',
  'leastconn',
  'random',
  'first',
] as const satisfies readonly BalanceName[]
export const logLevels = [
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
  'silent',
] as const satisfies readonly LogLevel[]
export const pathMatches = ['prefix', 'segment', 'iprefix', 'glob'] as const satisfies readonly PathMatch[]
export const serverStates = ['up', 'drain', 'maint'] as const satisfies readonly ServerConfig['state'][]
export const listenerModes = ['http', 'tcp'] as const satisfies readonly ListenerConfig['mode'][]
export const checkSources = [
  'active',
  'consul',
  'both',
] as const satisfies readonly HealthCheckSpec['source'][]
export const checkTypeNames = ['tcp', 'http', 'https'] as const satisfies readonly HealthCheckSpec['type'][]
export const initStateNames = [
  'up',
  'down',
  'fully-up',
  'fully-down',
] as const satisfies readonly HealthCheckSpec['initState'][]
export const observeModes = ['none', 'layer4', 'layer7'] as const
export const onErrorNames = [
  'fastinter',
  'fail-check',
  'sudden-death',
  'mark-down',
] as const satisfies readonly ObserveSpec['onError'][]
export const onMarkedDownNames = [
  'none',
  'shutdown-sessions',
] as const satisfies readonly ServiceHealthOptions['onMarkedDown'][]
export const sendProxyNames = [
  'none',
  'v1',
  'v2',
] as const satisfies readonly ServiceHealthOptions['sendProxy'][]
export const upstreamProtos = ['http', 'https'] as const satisfies readonly ServiceConfig['proto'][]
export const redirectCodes = [301, 302, 303, 307, 308] as const

type Covers<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : false
const _allListed: [
  Covers<BalanceName, (typeof balanceNames)[number]>,
  Covers<LogLevel, (typeof logLevels)[number]>,
  Covers<PathMatch, (typeof pathMatches)[number]>,
  Covers<ServerConfig['state'], (typeof serverStates)[number]>,
  Covers<ListenerConfig['mode'], (typeof listenerModes)[number]>,
  Covers<ServiceConfig['proto'], (typeof upstreamProtos)[number]>,
] = [true, true, true, true, true, true]

// ---------------------------------------------------------------------------------------------------------------
// validate(): raw YAML data → Config, or every problem with its dotted path. Pure: the environment and the
// contents of `<key>_file` files come in as arguments (load.ts reads them; fileReferences() says which).

/** Environment variables for `${VAR}` references. */
export type Env = Readonly<Record<string, string | undefined>>
/** Contents of the files named by `<key>_file` keys, keyed by the reference as written (after `${VAR}`). */
export type FileContents = ReadonlyMap<string, string | Error>

export interface ValidateResult {
  config: Config | undefined
  problems: ConfigProblem[]
}

export function validate(
  raw: unknown,
  file: string,
  env: Env = {},
  files: FileContents = new Map(),
): ValidateResult {
  const c = new Checker(file, env, files)
  const top = section(c, { path: '', value: raw ?? {}, fromFile: false }, topKeys)
  const listeners = readListeners(c, top?.get('listeners'))
  const defaults = readDefaults(c, top?.get('defaults'))
  const services = readServices(c, top?.get('services'), defaults)
  checkServiceRefs(c, services)
  const routes = readRoutes(c, top?.get('routes'), services)
  const http = readHttp(c, top?.get('http'))
  for (const ref of c.authRefs) {
    if (!http.auth.some((a) => a.name === ref.name))
      c.add(
        ref.path,
        `unknown auth scheme "${ref.name}"${didYouMean(
          ref.name,
          http.auth.map((a) => a.name),
        )}`,
      )
  }
  const log = readLog(c, top?.get('log'))
  const metrics = { enabled: readBool(c, section(c, top?.get('metrics'), metricsKeys)?.get('enabled'), true) }
  const admin = readAdmin(c, top?.get('admin'), listeners)
  const resolver = readResolver(c, top?.get('resolver'))
  const consul = readConsul(c, top?.get('consul'))
  if (consul.register.enabled && consul.register.address === '' && admin.port === 0)
    c.add(
      'consul.register.address',
      'required when the admin server is off (it is what lb registers and Consul checks)',
    )
  const routeCommands = readRouteCommands(c, top?.get('route_commands'), services, defaults)
  const workers = readWorkers(c, top?.get('workers'))
  const shutdown = readShutdown(c, top?.get('shutdown'))
  const pidFile = readString(c, top?.get('pid_file'), defaultConfig.pidFile)
  const tcpDynamic = readBool(c, top?.get('tcp_dynamic'), defaultConfig.tcpDynamic)
  if (c.problems.length > 0) return { config: undefined, problems: c.problems }
  const config: MutableConfig = {
    file,
    listeners,
    defaults,
    services,
    routes,
    http,
    log,
    metrics,
    admin,
    resolver,
    consul,
    routeCommands,
    workers,
    shutdown,
    pidFile,
    tcpDynamic,
  }
  return { config, problems: [] }
}

/** The `<key>_file` references in a raw tree, after `${VAR}` expansion: the files load.ts must read. */
export function fileReferences(raw: unknown, env: Env): string[] {
  const out = new Set<string>()
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item)
    } else if (isMapping(v)) {
      for (const [k, item] of Object.entries(v)) {
        if (k.endsWith(fileSuffix) && typeof item === 'string') {
          const r = expandVars(item, env)
          if (r.errors.length === 0) out.add(r.value)
        } else {
          walk(item)
        }
      }
    }
  }
  walk(raw)
  return [...out]
}

export interface Expanded {
  readonly value: string
  /** True when at least one `${VAR}` was replaced (the value may then be parsed as a number or boolean). */
  readonly substituted: boolean
  readonly errors: readonly string[]
}

/** Replace `${NAME}` from env; `$$` is a literal `$`; any other `$` is kept (so `$path` in redirect URLs works). */
export function expandVars(s: string, env: Env): Expanded {
  if (!s.includes('$')) return { value: s, substituted: false, errors: [] }
  let value = ''
  let substituted = false
  const errors: string[] = []
  let i = 0
  while (i < s.length) {
    const ch = s[i] as string
    if (ch !== '$') {
      value += ch
      i++
    } else if (s[i + 1] === '$') {
      value += '$'
      i += 2
    } else if (s[i + 1] === '{') {
      const close = s.indexOf('}', i + 2)
      const name = close < 0 ? '' : s.slice(i + 2, close)
      if (!envNameRe.test(name)) {
        errors.push('malformed ${...} reference (expected ${NAME}; write $$ for a literal $)')
        break
      }
      const v = env[name]
      if (v === undefined) errors.push(`environment variable ${name} is not set`)
      else value += v
      substituted = true
      i = close + 1
    } else {
      value += ch
      i++
    }
  }
  return { value, substituted, errors }
}

// ---------------------------------------------------------------------------------------------------------------
// Keys per section, in the order the sections are documented.

const topKeys = [
  'listeners',
  'defaults',
  'services',
  'routes',
  'http',
  'log',
  'metrics',
  'admin',
  'resolver',
  'consul',
  'route_commands',
  'workers',
  'shutdown',
  'pid_file',
  'tcp_dynamic',
] as const
const shutdownKeys = ['grace', 'timeout'] as const
/** Upper bound for `workers: N` (a typo like 400 should not fork 400 processes). */
export const maxWorkers = 256
const listenerKeys = [
  'name',
  'address',
  'mode',
  'accept_proxy',
  'maxconn',
  'service',
  'sni_routes',
  'timeouts',
] as const
const sniRouteKeys = ['server_name', 'service'] as const
const tcpTimeoutKeys = ['client', 'server', 'tunnel'] as const
/** Health and server-option keys shared by `defaults` and every service. */
const healthKeys = [
  'check',
  'observe',
  'error_limit',
  'on_error',
  'slowstart',
  'maxqueue',
  'on_marked_down',
  'send_proxy',
] as const
const defaultsKeys = ['balance', 'retries', 'max_connections', 'timeouts', ...healthKeys] as const
const upstreamTimeoutKeys = ['connect', 'server', 'body', 'keep_alive', 'queue'] as const
const checkKeys = [
  'source',
  'type',
  'inter',
  'fastinter',
  'downinter',
  'rise',
  'fall',
  'timeout',
  'port',
  'address',
  'spread',
  'init_state',
  'send_proxy',
  'http',
  'tls',
] as const
const checkHttpKeys = ['method', 'path', 'host', 'expect_status'] as const
const checkTlsKeys = ['ca', 'skip_verify', 'sni'] as const
const serviceKeys = [
  'name',
  'balance',
  'retries',
  'max_connections',
  'timeouts',
  'proto',
  'tls_skip_verify',
  'servers',
  ...healthKeys,
] as const
const serverKeys = ['address', 'name', 'weight', 'backup', 'maxconn', 'state', 'check'] as const
const routeKeys = [
  'host',
  'path',
  'service',
  'strip',
  'prepend',
  'host_header',
  'redirect',
  'allow',
  'deny',
  'path_match',
  'auth',
] as const
const redirectKeys = ['code', 'url'] as const
const httpKeys = [
  'trusted_proxies',
  'request_id_header',
  'client_ip_header',
  'local_ip',
  'auth',
  'no_route',
  'gzip_content_types',
  'path_match',
  'max_header_size',
  'maxconn',
  'timeouts',
] as const
const httpTimeoutKeys = ['http_request', 'client', 'keep_alive', 'tunnel'] as const
const authKeys = ['name', 'type', 'realm', 'htpasswd'] as const
const noRouteKeys = ['status', 'page'] as const
const logKeys = ['level', 'destination', 'access'] as const
const accessKeys = ['enabled', 'destination', 'format', 'sample', 'status', 'slow', 'errors'] as const
const metricsKeys = ['enabled'] as const
const adminKeys = ['address', 'token', 'allowed_hosts'] as const
const resolverKeys = ['max_ttl', 'min_ttl', 'retry', 'cache_size'] as const
const consulKeys = [
  'enabled',
  'addresses',
  'scheme',
  'tls',
  'token',
  'datacenter',
  'consistency',
  'wait',
  'status',
  'route_without_checks',
  'tag_prefix',
  'kv_path',
  'fanout',
  'watch',
  'state_threshold',
  'rate_limit',
  'backoff',
  'throttle',
  'no_route_key',
  'register',
] as const
const consulRegisterKeys = [
  'enabled',
  'name',
  'address',
  'tags',
  'check_interval',
  'check_timeout',
  'deregister_critical_after',
] as const
const consulTlsKeys = ['ca', 'cert', 'key', 'skip_verify'] as const
const rateLimitKeys = ['interval', 'burst'] as const
const backoffKeys = ['min', 'max'] as const
export const consulWatchModes = ['auto', 'service', 'state'] as const satisfies readonly ConsulWatchMode[]
export const consulConsistencies = [
  'default',
  'stale',
  'consistent',
] as const satisfies readonly ConsulConsistency[]
export const consulStatuses = ['passing', 'warning'] as const satisfies readonly ConsulStatus[]

const fileSuffix = '_file'
const envNameRe = /^[A-Za-z_][A-Za-z0-9_]*$/
/** Service and listener names: no spaces, since fabio's route grammar reads them as \S+; no `@` (svc@provider). */
const nameRe = /^[A-Za-z0-9_.-]+$/
const visibleRe = /^[\x21-\x7e\u0080-\uffff]+$/
/** RFC 9110 token, for header names. */
const tokenRe = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const urlPathBadRe = /[\s?#\p{Cc}]/u
const absolutePathRe = /^\//

// ---------------------------------------------------------------------------------------------------------------
// Sections.

function readListeners(c: Checker, slot: Slot | undefined): ListenerConfig[] {
  const items = readList(c, slot)
  if (items === undefined) return structuredClone(defaultConfig.listeners) as ListenerConfig[]
  if (items.length === 0) c.add(slot?.path ?? 'listeners', 'at least one listener is required')
  const out: ListenerConfig[] = []
  const names = new Map<string, string>()
  const binds: { path: string; host: string; port: number }[] = []
  for (const item of items) {
    const f = section(c, item, listenerKeys)
    if (f === undefined) continue
    const addrSlot = required(c, f, item, 'address')
    const addr = readHostPort(c, addrSlot, { emptyHost: true, portZero: true })
    const mode = readListenerMode(c, f.get('mode'))
    const port = addr?.port ?? 0
    const tcpOnly = readTcpListener(c, f, mode)
    let clashed = false
    if (addr !== undefined && addrSlot !== undefined) {
      const clash = binds.find((b) => bindsClash(b, addr))
      if (clash !== undefined) c.add(addrSlot.path, `port ${port} is already used by ${clash.path}`)
      clashed = clash !== undefined
      binds.push({ path: item.path, host: addr.host, port })
    }
    const nameSlot = f.get('name')
    const name = readName(c, nameSlot, addr === undefined ? undefined : `${mode}-${port}`)
    // A defaulted name only repeats when the port does, which is reported above.
    if (name !== undefined && (nameSlot !== undefined || !clashed)) {
      const hint = nameSlot === undefined ? '; give one of them a name' : ''
      unique(c, names, name, nameSlot?.path ?? item.path, 'listener name', hint)
    }
    const base = { name: name ?? '', host: addr?.host ?? '', port }
    if (tcpOnly !== undefined) {
      out.push({ ...base, ...tcpOnly })
    } else {
      const acceptSlot = f.get('accept_proxy')
      const l: HttpListenerConfig = { ...base, mode: 'http' }
      if (acceptSlot !== undefined && acceptSlot.value !== null)
        l.acceptProxy = readBool(c, acceptSlot, false)
      const maxconnSlot = f.get('maxconn')
      if (maxconnSlot !== undefined && maxconnSlot.value !== null)
        l.maxconn = readInt(c, maxconnSlot, 0, 0, 1_000_000)
      out.push(l)
    }
  }
  return out
}

/** The tcp-only listener keys: the TcpListenerConfig fields for `mode: tcp`, else problems for any set. */
function readTcpListener(
  c: Checker,
  f: Fields<(typeof listenerKeys)[number]>,
  mode: ListenerConfig['mode'],
): Omit<TcpListenerConfig, 'name' | 'host' | 'port'> | undefined {
  if (mode !== 'tcp') {
    for (const k of ['service', 'sni_routes', 'timeouts'] as const) {
      const s = f.get(k)
      if (s !== undefined && s.value !== null) c.add(s.path, 'only applies to mode: tcp listeners')
    }
    return undefined
  }
  const maxconnSlot = f.get('maxconn')
  if (maxconnSlot !== undefined && maxconnSlot.value !== null)
    c.add(maxconnSlot.path, 'only applies to mode: http listeners')
  const d = tcpListenerDefaults
  const serviceSlot = f.get('service')
  const service = readString(c, serviceSlot, d.service)
  if (serviceSlot !== undefined && service !== '')
    c.serviceRefs.push({ path: serviceSlot.path, name: service })
  const sniRoutes: SniRouteConfig[] = []
  const seen = new Map<string, string>()
  for (const item of readList(c, f.get('sni_routes')) ?? []) {
    const r = section(c, item, sniRouteKeys)
    if (r === undefined) continue
    const nameSlot = required(c, r, item, 'server_name')
    const serverName = readChecked(c, nameSlot, '', checkSniName)
    const svcSlot = required(c, r, item, 'service')
    const svc = readString(c, svcSlot, '')
    if (svcSlot !== undefined && svc !== '') c.serviceRefs.push({ path: svcSlot.path, name: svc })
    if (serverName !== undefined && serverName !== '') {
      unique(c, seen, serverName, nameSlot?.path ?? item.path, 'SNI server name')
      sniRoutes.push({ serverName, service: svc })
    }
  }
  const t = section(c, f.get('timeouts'), tcpTimeoutKeys)
  return {
    mode: 'tcp',
    acceptProxy: readBool(c, f.get('accept_proxy'), d.acceptProxy),
    service,
    sniRoutes,
    timeouts: {
      client: readDuration(c, t?.get('client'), d.timeouts.client, 1),
      server: readDuration(c, t?.get('server'), d.timeouts.server, 1),
      tunnel: readDuration(c, t?.get('tunnel'), d.timeouts.tunnel, 0),
    },
  }
}

/** SNI names are hostnames (lower-cased), optionally `*.suffix`. */
function checkSniName(s: string): Parsed<string> {
  const name = s.toLowerCase()
  const bare = name.startsWith('*.') ? name.slice(2) : name
  return isHostname(bare) ? ok(name) : fail(`"${s}" is not a hostname or *.domain`)
}

/** Services named by listeners exist (reported after the services were read). */
function checkServiceRefs(c: Checker, services: readonly ServiceConfig[]): void {
  const names = services.map((s) => s.name)
  for (const ref of c.serviceRefs) {
    if (!names.includes(ref.name))
      c.add(ref.path, `unknown service "${ref.name}"${didYouMean(ref.name, names)}`)
  }
}

function readListenerMode(c: Checker, slot: Slot | undefined): ListenerConfig['mode'] {
  const v = readString(c, slot, 'http')
  return checkEnum(c, slot, v, listenerModes, 'http')
}

function bindsClash(a: { host: string; port: number }, b: { host: string; port: number }): boolean {
  if (a.port !== b.port || a.port === 0) return false
  return a.host === b.host || wildcardHosts.has(a.host) || wildcardHosts.has(b.host)
}
const wildcardHosts: ReadonlySet<string> = new Set(['', '0.0.0.0', '::'])

function readDefaults(c: Checker, slot: Slot | undefined): ServiceDefaults {
  const d = defaultConfig.defaults
  const f = section(c, slot, defaultsKeys)
  return {
    balance: readEnum(c, f?.get('balance'), d.balance, balanceNames),
    retries: readInt(c, f?.get('retries'), d.retries, 0, 10),
    maxConnections: readInt(c, f?.get('max_connections'), d.maxConnections, 1, 100_000),
    timeouts: readUpstreamTimeouts(c, f?.get('timeouts'), d.timeouts),
    ...readHealthOptions(c, f, d),
  }
}

/** The health/server-option keys of `defaults` or a service, over `base` (the built-ins or `defaults`). */
function readHealthOptions(
  c: Checker,
  f: { get(key: (typeof healthKeys)[number]): Slot | undefined } | undefined,
  base: DeepReadonly<ServiceHealthOptions>,
): ServiceHealthOptions {
  const check = readCheck(c, f?.get('check'), base.check)
  const observeSlot = f?.get('observe')
  const mode = readEnum(c, observeSlot, base.observe?.observe ?? 'none', observeModes)
  const errorLimit = readInt(c, f?.get('error_limit'), base.observe?.errorLimit ?? 10, 1, 100_000)
  const onError = readEnum(c, f?.get('on_error'), base.observe?.onError ?? 'fail-check', onErrorNames)
  if (mode !== 'none' && (check === null || check.source === 'consul') && observeSlot !== undefined) {
    c.add(
      observeSlot.path,
      'needs active checks (a check block with source active or both) to bring servers back',
    )
  }
  for (const k of ['error_limit', 'on_error'] as const) {
    const s = f?.get(k)
    if (s !== undefined && s.value !== null && mode === 'none')
      c.add(s.path, 'only applies with observe: layer4 or layer7')
  }
  return {
    check,
    observe: mode === 'none' ? null : { observe: mode, errorLimit, onError },
    slowstart: readDuration(c, f?.get('slowstart'), base.slowstart, 0),
    maxqueue: readInt(c, f?.get('maxqueue'), base.maxqueue, 0, 1_000_000),
    onMarkedDown: readEnum(c, f?.get('on_marked_down'), base.onMarkedDown, onMarkedDownNames),
    sendProxy: readEnum(c, f?.get('send_proxy'), base.sendProxy, sendProxyNames),
  }
}

/**
 * A `check:` value: `false` = none, `true` = `base` (or the built-in defaults), a mapping = those keys over
 * `base`. Absent = `base` (so `defaults.check` turns checks on for every service, like `default-server check`).
 */
function readCheck(
  c: Checker,
  slot: Slot | undefined,
  base: DeepReadonly<HealthCheckSpec> | null,
): HealthCheckSpec | null {
  if (slot === undefined || slot.value === null) return base
  if (typeof slot.value === 'boolean') return slot.value ? (base ?? checkDefaults) : null
  const f = section(c, slot, checkKeys)
  if (f === undefined) return base
  const d = base ?? checkDefaults
  const type = readEnum(c, f.get('type'), d.type, checkTypeNames)
  const h = section(c, f.get('http'), checkHttpKeys)
  const t = section(c, f.get('tls'), checkTlsKeys)
  const httpSlot = f.get('http')
  if (httpSlot !== undefined && httpSlot.value !== null && type === 'tcp') {
    c.add(httpSlot.path, 'only applies to type: http or https')
  }
  const tlsSlot = f.get('tls')
  if (tlsSlot !== undefined && tlsSlot.value !== null && type !== 'https') {
    c.add(tlsSlot.path, 'only applies to type: https')
  }
  const address = readChecked(c, f.get('address'), d.address, (s) =>
    s === '' || isHostname(s) || isIPv4(s) || isIPv6(s) ? ok(s) : fail(`"${s}" is not a hostname or IP`),
  )
  const sendProxySlot = f.get('send_proxy')
  const sendProxy =
    sendProxySlot === undefined || sendProxySlot.value === null
      ? d.sendProxy
      : readBool(c, sendProxySlot, false)
  const check: HealthCheckSpec = {
    ...(sendProxy === undefined ? {} : { sendProxy }),
    source: readEnum(c, f.get('source'), d.source, checkSources),
    type,
    inter: readDuration(c, f.get('inter'), d.inter, 10),
    fastinter: readDuration(c, f.get('fastinter'), d.fastinter, 0),
    downinter: readDuration(c, f.get('downinter'), d.downinter, 0),
    rise: readInt(c, f.get('rise'), d.rise, 1, 1_000),
    fall: readInt(c, f.get('fall'), d.fall, 1, 1_000),
    timeout: readDuration(c, f.get('timeout'), d.timeout, 0),
    port: readInt(c, f.get('port'), d.port, 0, 65_535),
    address: address ?? '',
    spread: readInt(c, f.get('spread'), d.spread, 0, 50),
    initState: readEnum(c, f.get('init_state'), d.initState, initStateNames),
    http: {
      method:
        readChecked(c, h?.get('method'), d.http.method, (s) =>
          tokenRe.test(s) ? ok(s.toUpperCase()) : fail(`"${s}" is not an HTTP method`),
        ) ?? d.http.method,
      path:
        readChecked(c, h?.get('path'), d.http.path, (s) =>
          absolutePathRe.test(s) && !/[\s\p{Cc}]/u.test(s)
            ? ok(s)
            : fail(`must start with "/" and have no spaces, got "${s}"`),
        ) ?? d.http.path,
      host: readChecked(c, h?.get('host'), d.http.host, checkHostHeader) ?? d.http.host,
      expectStatus: readExpectStatus(c, h?.get('expect_status'), d.http.expectStatus),
    },
    tls: {
      ca:
        readChecked(c, t?.get('ca'), d.tls.ca, (s) =>
          s === '' || s.includes('-----BEGIN CERTIFICATE-----')
            ? ok(s)
            : fail('expected PEM certificates (use ca_file for a path)'),
        ) ?? d.tls.ca,
      skipVerify: readBool(c, t?.get('skip_verify'), d.tls.skipVerify),
      sni:
        readChecked(c, t?.get('sni'), d.tls.sni, (s) =>
          s === '' || isHostname(s) ? ok(s) : fail(`"${s}" is not a hostname`),
        ) ?? d.tls.sni,
    },
  }
  const tSlot = f.get('timeout')
  if (check.timeout > check.inter && tSlot !== undefined) {
    c.add(tSlot.path, `must not exceed inter (${formatDuration(check.inter)})`)
  }
  return check
}

/** `expect_status`: 200, "200-399", or a list of them. */
function readExpectStatus(
  c: Checker,
  slot: Slot | undefined,
  fallback: readonly StatusRange[],
): StatusRange[] {
  if (slot === undefined || slot.value === null) return fallback.map((r) => ({ lo: r.lo, hi: r.hi }))
  const items = Array.isArray(slot.value) ? (readList(c, slot) ?? []) : [slot]
  if (items.length === 0) c.add(slot.path, 'at least one status is required')
  const out: StatusRange[] = []
  for (const item of items) {
    const v = item.value
    const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v : ''
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(text.trim())
    const lo = Number(m?.[1])
    const hi = m?.[2] === undefined ? lo : Number(m[2])
    if (m === null || lo < 100 || hi > 599 || hi < lo) {
      c.add(
        item.path,
        `expected a status (200), a range ("200-399") or a list of them, got ${describe(item)}`,
      )
      continue
    }
    out.push({ lo, hi })
  }
  return out
}

function readUpstreamTimeouts(
  c: Checker,
  slot: Slot | undefined,
  d: DeepReadonly<UpstreamTimeouts>,
): UpstreamTimeouts {
  const f = section(c, slot, upstreamTimeoutKeys)
  const t: UpstreamTimeouts = {
    connect: readDuration(c, f?.get('connect'), d.connect, 1),
    server: readDuration(c, f?.get('server'), d.server, 1),
    body: readDuration(c, f?.get('body'), d.body, 1),
    keepAlive: readDuration(c, f?.get('keep_alive'), d.keepAlive, 1),
  }
  const queue = f?.get('queue')
  if (queue !== undefined && queue.value !== null) t.queue = readDuration(c, queue, d.queue ?? t.connect, 1)
  else if (d.queue !== undefined) t.queue = d.queue
  return t
}

function readServices(c: Checker, slot: Slot | undefined, d: ServiceDefaults): ServiceConfig[] {
  const out: ServiceConfig[] = []
  const names = new Map<string, string>()
  for (const item of readList(c, slot) ?? []) {
    const f = section(c, item, serviceKeys)
    if (f === undefined) continue
    const name = readName(c, required(c, f, item, 'name'), undefined)
    if (name !== undefined) unique(c, names, name, f.get('name')?.path ?? item.path, 'service name')
    const proto = readEnum(c, f.get('proto'), 'http', upstreamProtos)
    const tlsSkipVerify = readBool(c, f.get('tls_skip_verify'), false)
    const skipSlot = f.get('tls_skip_verify')
    if (tlsSkipVerify && proto === 'http' && skipSlot !== undefined) {
      c.add(skipSlot.path, 'only applies to proto: https')
    }
    const service: ServiceConfig = {
      name: name ?? '',
      balance: readEnum(c, f.get('balance'), d.balance, balanceNames),
      retries: readInt(c, f.get('retries'), d.retries, 0, 10),
      maxConnections: readInt(c, f.get('max_connections'), d.maxConnections, 1, 100_000),
      proto,
      tlsSkipVerify,
      timeouts: readUpstreamTimeouts(c, f.get('timeouts'), d.timeouts),
      servers: readServers(c, required(c, f, item, 'servers')),
      ...readHealthOptions(c, f, d),
    }
    out.push(service)
  }
  return out
}

function readServers(c: Checker, slot: Slot | undefined): ServerConfig[] {
  const items = readList(c, slot)
  if (items === undefined) return []
  if (items.length === 0 && slot !== undefined) c.add(slot.path, 'at least one server is required')
  const out: ServerConfig[] = []
  const names = new Map<string, string>()
  for (const item of items) {
    const f = section(c, item, serverKeys)
    if (f === undefined) continue
    const addr = readHostPort(c, required(c, f, item, 'address'), { emptyHost: false, portZero: false })
    const nameSlot = f.get('name')
    const name = readString(c, nameSlot, addr === undefined ? '' : formatHostPort(addr.host, addr.port))
    if (nameSlot !== undefined && !visibleRe.test(name)) {
      c.add(nameSlot.path, 'must be non-empty without spaces or control characters')
    } else if (name !== '') {
      const hint = nameSlot === undefined ? '; give one of them a name' : ''
      unique(c, names, name, nameSlot?.path ?? item.path, 'server name', hint)
    }
    const server: ServerConfig = {
      name,
      host: addr?.host ?? '',
      port: addr?.port ?? 0,
      weight: readInt(c, f.get('weight'), 1, 0, 256),
      backup: readBool(c, f.get('backup'), false),
      maxconn: readInt(c, f.get('maxconn'), 0, 0, 100_000),
      state: readEnum(c, f.get('state'), 'up', serverStates),
      check: readBool(c, f.get('check'), true),
    }
    out.push(server)
  }
  return out
}

function readRoutes(c: Checker, slot: Slot | undefined, services: readonly ServiceConfig[]): RouteConfig[] {
  const serviceNames = new Set(services.map((s) => s.name))
  const out: RouteConfig[] = []
  const seen = new Map<string, string>()
  for (const item of readList(c, slot) ?? []) {
    const f = section(c, item, routeKeys)
    if (f === undefined) continue
    const host = readChecked(c, f.get('host'), '', normalizeRouteHost)
    const path = readChecked(c, f.get('path'), '/', checkUrlPath)
    const serviceSlot = f.get('service')
    const service = readString(c, serviceSlot, '')
    const strip = readChecked(c, f.get('strip'), '', checkUrlPath)
    const prepend = readChecked(c, f.get('prepend'), '', checkUrlPath)
    const hostHeader = readChecked(c, f.get('host_header'), '', checkHostHeader)
    const allow = readCidrList(c, f.get('allow'))
    const deny = readCidrList(c, f.get('deny'))
    const pathMatchSlot = f.get('path_match')
    const pathMatch =
      pathMatchSlot === undefined || pathMatchSlot.value === null
        ? undefined
        : readEnum(c, pathMatchSlot, 'prefix', pathMatches)
    const auth = readChecked(c, f.get('auth'), '', (s) =>
      s === '' || nameRe.test(s) ? ok(s) : fail(`must name an http.auth scheme, got "${s}"`),
    )
    if (auth !== undefined && auth !== '')
      c.authRefs.push({ path: f.get('auth')?.path ?? item.path, name: auth })
    if (pathMatch === 'glob' && path !== undefined) {
      const why = globProblem(path)
      if (why !== '') c.add(f.get('path')?.path ?? item.path, why)
    }
    const redirectSlot = f.get('redirect')
    const redirect = readRedirect(c, redirectSlot)
    if (redirectSlot !== undefined && redirectSlot.value !== null) {
      if (serviceSlot !== undefined && service !== '') {
        c.add(redirectSlot.path, 'set either service or redirect, not both')
      }
      for (const k of ['strip', 'prepend', 'host_header'] as const) {
        const s = f.get(k)
        if (s !== undefined && s.value !== null) c.add(s.path, 'does not apply to a redirect route')
      }
    } else if (service === '') {
      c.add(serviceSlot?.path ?? `${item.path}.service`, 'required (or set redirect)')
    } else if (serviceSlot !== undefined && !serviceNames.has(service)) {
      c.add(serviceSlot.path, `unknown service "${service}"${didYouMean(service, [...serviceNames])}`)
    }
    if (host !== undefined && path !== undefined) {
      const key = `${host} ${path}`
      const first = seen.get(key)
      if (first !== undefined) {
        c.add(item.path, `duplicate route for host "${host}" path "${path}" (first at ${first})`)
      } else {
        seen.set(key, item.path)
      }
      out.push({
        host,
        path,
        service,
        strip: strip ?? '',
        prepend: prepend ?? '',
        hostHeader: hostHeader ?? '',
        redirect,
        ...(allow === undefined || allow.length === 0 ? {} : { allow }),
        ...(deny === undefined || deny.length === 0 ? {} : { deny }),
        ...(pathMatch === undefined ? {} : { pathMatch }),
        ...(auth === undefined || auth === '' ? {} : { auth }),
      })
    }
  }
  return out
}

function readRedirect(c: Checker, slot: Slot | undefined): Redirect | null {
  const f = section(c, slot, redirectKeys)
  if (f === undefined || slot === undefined) return null
  const codeSlot = f.get('code')
  const code = readInt(c, codeSlot, 302, 300, 399)
  if (codeSlot !== undefined && !(redirectCodes as readonly number[]).includes(code)) {
    c.add(codeSlot.path, `must be one of ${redirectCodes.join(', ')}, got ${code}`)
  }
  const url = readChecked(c, required(c, f, slot, 'url'), '', checkRedirectUrl)
  return { code, url: url ?? '' }
}

function readHttp(c: Checker, slot: Slot | undefined): HttpConfig {
  const d = defaultConfig.http
  const f = section(c, slot, httpKeys)
  const trustedProxies = readCidrList(c, f?.get('trusted_proxies'))
  const t = section(c, f?.get('timeouts'), httpTimeoutKeys)
  return {
    trustedProxies: trustedProxies ?? [...d.trustedProxies],
    requestIdHeader:
      readChecked(c, f?.get('request_id_header'), d.requestIdHeader, (s) =>
        s === '' || tokenRe.test(s) ? ok(s) : fail(`"${s}" is not a valid header name`),
      ) ?? '',
    clientIpHeader:
      readChecked(c, f?.get('client_ip_header'), d.clientIpHeader, (s) =>
        s === '' || tokenRe.test(s) ? ok(s) : fail(`"${s}" is not a valid header name`),
      ) ?? '',
    localIp:
      readChecked(c, f?.get('local_ip'), d.localIp, (s) =>
        s === '' || isIPv4(s) || isIPv6(s) ? ok(s) : fail(`"${s}" is not an IP address`),
      ) ?? '',
    auth: readAuthSchemes(c, f?.get('auth')),
    noRoute: readNoRoute(c, f?.get('no_route')),
    gzipContentTypes:
      readChecked(c, f?.get('gzip_content_types'), d.gzipContentTypes, (s) => {
        try {
          new RegExp(s, 'i')
          return ok(s)
        } catch (err) {
          return fail(`not a regular expression: ${err instanceof Error ? err.message : String(err)}`)
        }
      }) ?? '',
    pathMatch: readEnum(c, f?.get('path_match'), d.pathMatch, pathMatches),
    maxHeaderSize: readInt(c, f?.get('max_header_size'), d.maxHeaderSize, 1_024, 1_048_576),
    maxconn: readInt(c, f?.get('maxconn'), d.maxconn, 0, 1_000_000),
    timeouts: {
      httpRequest: readDuration(c, t?.get('http_request'), d.timeouts.httpRequest, 1),
      client: readDuration(c, t?.get('client'), d.timeouts.client, 1),
      keepAlive: readDuration(c, t?.get('keep_alive'), d.timeouts.keepAlive, 1),
      tunnel: readDuration(c, t?.get('tunnel'), d.timeouts.tunnel, 1),
    },
  }
}

/** `http.auth`: named basic-auth schemes, each with its htpasswd content (`htpasswd_file` reads the file). */
function readAuthSchemes(c: Checker, slot: Slot | undefined): AuthSchemeSpec[] {
  const out: AuthSchemeSpec[] = []
  const names = new Map<string, string>()
  for (const item of readList(c, slot) ?? []) {
    const f = section(c, item, authKeys)
    if (f === undefined) continue
    const name = readName(c, required(c, f, item, 'name'), undefined)
    if (name !== undefined) unique(c, names, name, f.get('name')?.path ?? item.path, 'auth scheme name')
    const type = readEnum(c, f.get('type'), 'basic', ['basic'] as const)
    const realm = readString(c, f.get('realm'), name ?? '')
    const htpasswdSlot = required(c, f, item, 'htpasswd')
    const htpasswd = readString(c, htpasswdSlot, '', true)
    if (htpasswdSlot !== undefined) {
      const bad = parseHtpasswd(htpasswd).badLines
      // Line numbers only: the content holds password hashes.
      if (bad.length > 0) c.add(htpasswdSlot.path, `lines ${bad.join(', ')} are not user:hash`)
    }
    out.push({ name: name ?? '', type, realm, htpasswd })
  }
  return out
}

function readNoRoute(c: Checker, slot: Slot | undefined): NoRouteConfig {
  const d = defaultConfig.http.noRoute
  const f = section(c, slot, noRouteKeys)
  return {
    status: readInt(c, f?.get('status'), d.status, 200, 599),
    page: readString(c, f?.get('page'), d.page),
  }
}

function readLog(c: Checker, slot: Slot | undefined): LogConfig {
  const d = defaultConfig.log
  const f = section(c, slot, logKeys)
  const a = section(c, f?.get('access'), accessKeys)
  return {
    level: readEnum(c, f?.get('level'), d.level, logLevels),
    destination: readChecked(c, f?.get('destination'), d.destination, checkLogDestination) ?? d.destination,
    access: {
      enabled: readBool(c, a?.get('enabled'), d.access.enabled),
      destination:
        readChecked(c, a?.get('destination'), d.access.destination, checkLogDestination) ??
        d.access.destination,
      format:
        readChecked(c, a?.get('format'), d.access.format, (s) => {
          if (accessLogFormats.includes(s)) return ok(s)
          if (!s.includes('$'))
            return fail(
              `must be json, httplog, common, combined or a $field template; got "${s}"${didYouMean(s, accessLogFormats)}`,
            )
          const f = compileAccessFormat(s)
          return typeof f === 'string' ? fail(f) : ok(s)
        }) ?? d.access.format,
      sample: readInt(c, a?.get('sample'), d.access.sample, 1, 1_000_000),
      status: readExpectStatus(c, a?.get('status'), d.access.status),
      slowMs: readDuration(c, a?.get('slow'), d.access.slowMs, 0),
      errors: readBool(c, a?.get('errors'), d.access.errors),
    },
  }
}

function readAdmin(c: Checker, slot: Slot | undefined, listeners: readonly ListenerConfig[]): AdminConfig {
  const d = defaultConfig.admin
  const f = section(c, slot, adminKeys)
  const addrSlot = f?.get('address')
  const addr = readChecked<HostPort | 'off'>(
    c,
    addrSlot,
    { host: d.host, kind: 'ipv4', port: d.port },
    (s) => (s === 'off' ? ok('off') : parseHostPort(s, { emptyHost: true, portZero: true })),
  )
  const host = addr === 'off' ? '' : (addr?.host ?? d.host)
  const port = addr === 'off' ? 0 : (addr?.port ?? d.port)
  const clash = listeners.findIndex((l) => bindsClash(l, { host, port }))
  if (addr !== undefined && clash >= 0) {
    c.add(addrSlot?.path ?? 'admin.address', `port ${port} is already used by listeners[${clash}]`)
  }
  const token = readString(c, f?.get('token'), d.token, true)
  const tokenSlot = f?.get('token')
  if (token !== '' && tokenSlot !== undefined && !visibleRe.test(token)) {
    c.add(tokenSlot.path, 'must not contain spaces or control characters')
  }
  const allowedHosts: string[] = []
  for (const item of readList(c, f?.get('allowed_hosts')) ?? []) {
    const name = readChecked(c, item, '', (s) =>
      isHostname(s) ? ok(s.toLowerCase()) : fail(`must be a host name without a port, got "${s}"`),
    )
    if (name !== undefined && name !== '') allowedHosts.push(name)
  }
  return { host, port, token, allowedHosts }
}

function readWorkers(c: Checker, slot: Slot | undefined): number | 'auto' {
  const d = defaultConfig.workers as number
  if (slot !== undefined && typeof slot.value === 'string') {
    const r = expand(c, slot, slot.value)
    if (r === undefined) return d
    const v = r.value.trim()
    if (v === 'auto') return 'auto'
    if (!/^-?\d+$/.test(v)) {
      c.add(slot.path, `expected auto or a number of processes, got ${describeText(slot, v)}`)
      return d
    }
    return readInt(c, { ...slot, value: Number(v) }, d, 0, maxWorkers)
  }
  return readInt(c, slot, d, 0, maxWorkers)
}

function readShutdown(c: Checker, slot: Slot | undefined): ShutdownConfig {
  const d = defaultConfig.shutdown
  const f = section(c, slot, shutdownKeys)
  return {
    grace: readDuration(c, f?.get('grace'), d.grace, 0),
    timeout: readDuration(c, f?.get('timeout'), d.timeout, 0),
  }
}

function readResolver(c: Checker, slot: Slot | undefined): ResolverConfig {
  const d = defaultConfig.resolver
  const f = section(c, slot, resolverKeys)
  const r: ResolverConfig = {
    maxTtl: readDuration(c, f?.get('max_ttl'), d.maxTtl, 0),
    minTtl: readDuration(c, f?.get('min_ttl'), d.minTtl, 0),
    retry: readDuration(c, f?.get('retry'), d.retry, 1),
    cacheSize: readInt(c, f?.get('cache_size'), d.cacheSize, 1, 1_000_000),
  }
  if (r.minTtl > r.maxTtl) {
    const minSlot = f?.get('min_ttl')
    if (minSlot !== undefined) c.add(minSlot.path, `must not exceed max_ttl (${formatDuration(r.maxTtl)})`)
    else
      c.add(f?.get('max_ttl')?.path ?? 'resolver', `must be at least min_ttl (${formatDuration(r.minTtl)})`)
  }
  return r
}

function readConsul(c: Checker, slot: Slot | undefined): ConsulConfig {
  const d = defaultConfig.consul
  const f = section(c, slot, consulKeys)
  const present = f !== undefined
  const addrSlot = f?.get('addresses')
  const addrItems = readList(c, addrSlot)
  const addresses: string[] = []
  for (const item of addrItems ?? []) {
    const a = readHostPort(c, item, { emptyHost: false, portZero: false, defaultPort: 8500 })
    if (a !== undefined) addresses.push(formatHostPort(a.host, a.port))
  }
  if (addrItems !== undefined && addrItems.length === 0 && addrSlot !== undefined) {
    c.add(addrSlot.path, 'at least one address is required')
  }
  const t = section(c, f?.get('tls'), consulTlsKeys)
  const scheme = readEnum(c, f?.get('scheme'), d.scheme, upstreamProtos)
  const tls = {
    ca: readString(c, t?.get('ca'), d.tls.ca, true),
    cert: readString(c, t?.get('cert'), d.tls.cert, true),
    key: readString(c, t?.get('key'), d.tls.key, true),
    skipVerify: readBool(c, t?.get('skip_verify'), d.tls.skipVerify),
  }
  if ((tls.cert === '') !== (tls.key === '') && t !== undefined) {
    c.add(
      `${f?.get('tls')?.path ?? 'consul.tls'}`,
      'set both cert and key (or cert_file and key_file), or neither',
    )
  }
  if (t !== undefined && scheme === 'http' && (tls.ca !== '' || tls.cert !== '' || tls.skipVerify)) {
    c.add(f?.get('tls')?.path ?? 'consul.tls', 'only applies to scheme: https')
  }
  const tokenSlot = f?.get('token')
  const token = readString(c, tokenSlot, d.token, true)
  if (token !== '' && tokenSlot !== undefined && !visibleRe.test(token)) {
    c.add(tokenSlot.path, 'must not contain spaces or control characters')
  }
  const statusSlot = f?.get('status')
  const statusItems = readList(c, statusSlot)
  const status: ConsulStatus[] = ['passing']
  for (const item of statusItems ?? []) {
    const s = readEnum(c, item, 'passing', consulStatuses)
    if (!status.includes(s)) status.push(s)
  }
  const r = section(c, f?.get('rate_limit'), rateLimitKeys)
  const b = section(c, f?.get('backoff'), backoffKeys)
  const backoff = {
    min: readDuration(c, b?.get('min'), d.backoff.min, 1),
    max: readDuration(c, b?.get('max'), d.backoff.max, 1),
  }
  if (backoff.min > backoff.max) c.add(f?.get('backoff')?.path ?? 'consul.backoff', 'min must not exceed max')
  const waitSlot = f?.get('wait')
  const wait = readDuration(c, waitSlot, d.wait, 1_000)
  if (wait > 600_000 && waitSlot !== undefined)
    c.add(waitSlot.path, 'must be at most 10m (Consul caps wait there)')
  const tagPrefix = readString(c, f?.get('tag_prefix'), d.tagPrefix)
  if (tagPrefix === '' && f?.get('tag_prefix') !== undefined)
    c.add(f.get('tag_prefix')?.path ?? '', 'must not be empty')
  return {
    enabled: present && readBool(c, f.get('enabled'), true),
    addresses: addrItems === undefined ? [...d.addresses] : addresses,
    scheme,
    tls,
    token,
    datacenter: readString(c, f?.get('datacenter'), d.datacenter),
    consistency: readEnum(c, f?.get('consistency'), d.consistency, consulConsistencies),
    wait,
    status,
    routeWithoutChecks: readBool(c, f?.get('route_without_checks'), d.routeWithoutChecks),
    tagPrefix,
    kvPath: readString(c, f?.get('kv_path'), d.kvPath).replace(/^\/+/, ''),
    fanout: readInt(c, f?.get('fanout'), d.fanout, 1, 1_024),
    watch: readEnum(c, f?.get('watch'), d.watch, consulWatchModes),
    stateThreshold: readInt(c, f?.get('state_threshold'), d.stateThreshold, 0, 1_000_000),
    rateLimit: {
      interval: readDuration(c, r?.get('interval'), d.rateLimit.interval, 0),
      burst: readInt(c, r?.get('burst'), d.rateLimit.burst, 1, 1_000),
    },
    backoff,
    throttle: readDuration(c, f?.get('throttle'), d.throttle, 0),
    noRouteKey: readString(c, f?.get('no_route_key'), d.noRouteKey).replace(/^\/+/, ''),
    register: readConsulRegister(c, f?.get('register')),
  }
}

function readConsulRegister(c: Checker, slot: Slot | undefined): ConsulRegisterConfig {
  const d = defaultConfig.consul.register
  const f = section(c, slot, consulRegisterKeys)
  const addrSlot = f?.get('address')
  const addr = readChecked<HostPort | undefined>(c, addrSlot, undefined, (s) =>
    s === '' ? ok(undefined) : parseHostPort(s, { emptyHost: false, portZero: false }),
  )
  const tags: string[] = []
  for (const item of readList(c, f?.get('tags')) ?? []) tags.push(readString(c, item, ''))
  return {
    enabled: readBool(c, f?.get('enabled'), d.enabled),
    name: readName(c, f?.get('name'), d.name) ?? d.name,
    address: addr === undefined ? '' : formatHostPort(addr.host, addr.port),
    tags,
    checkInterval: readDuration(c, f?.get('check_interval'), d.checkInterval, 100),
    checkTimeout: readDuration(c, f?.get('check_timeout'), d.checkTimeout, 100),
    deregisterCriticalAfter: readDuration(
      c,
      f?.get('deregister_critical_after'),
      d.deregisterCriticalAfter,
      1_000,
    ),
  }
}

/** A multi-line string or a list of lines, checked with the route command parser (every bad line reported). */
function readRouteCommands(
  c: Checker,
  slot: Slot | undefined,
  services: readonly ServiceConfig[],
  defaults: ServiceDefaults,
): string {
  if (slot === undefined || slot.value === null) return ''
  let lines: string[]
  if (typeof slot.value === 'string') {
    lines = readString(c, slot, '').split('\n')
  } else {
    lines = []
    for (const item of readList(c, slot) ?? []) lines.push(readString(c, item, ''))
  }
  const text = lines.join('\n')
  const parsed = parseCommands(text)
  const problems = [...parsed.problems, ...applyCommands(new Map(), parsed.commands, text)]
  for (const p of problems) {
    const path = typeof slot.value === 'string' ? slot.path : `${slot.path}[${p.line - 1}]`
    c.add(path, typeof slot.value === 'string' ? `line ${p.line}: ${p.reason}` : p.reason)
  }
  const ir: Ir = new Map()
  applyCommands(ir, parsed.commands, text)
  const names = new Set(services.map((s) => s.name))
  for (const s of toSnapshot(ir, { defaults, source: '' }).services) {
    if (names.has(s.name))
      c.add(slot.path, `service "${s.name}" is also defined in services:; use another name`)
  }
  return text
}

// ---------------------------------------------------------------------------------------------------------------
// Value checks: string in, canonical value or reason out.

type Check<T> = (s: string) => Parsed<T>

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value }
}
function fail<T>(reason: string): Parsed<T> {
  return { ok: false, reason }
}

/**
 * Canonical route host (src/route/host.ts `normalizeRouteKey`: lower-case, one trailing dot dropped; an explicit
 * `:80` or `:443` is kept, since on a route it selects plain-HTTP or TLS requests), then checked: hostname,
 * IPv4, `[IPv6]` or a glob pattern (`*.suffix`, `*`, `api-*.example.com`, `{a,b}.example.com`), optional
 * `:port`. '' = catch-all.
 */
export function normalizeRouteHost(input: string): Parsed<string> {
  if (input === '') return ok('')
  if (input === '*') return fail('use an empty host (or leave it out) for the catch-all route')
  const host = normalizeRouteKey(input)
  // Most route hosts have no port: skip the regex for them (a Consul build checks 20,000 hosts at a time).
  const m = host.includes(':') && !host.startsWith('[') ? /^(.*?)(?::(\d{1,5}))?$/.exec(host) : null
  const v6 = host.startsWith('[') ? /^(\[[^\]]*\])(?::(\d{1,5}))?$/.exec(host) : null
  const name = m !== null ? (m[1] ?? '') : v6 !== null ? (v6[1] ?? '') : host
  const port = m?.[2] ?? v6?.[2]
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return fail(`port must be between 1 and 65535, got ${port}`)
  }
  if (!name.startsWith('[') && isGlob(name)) {
    // fabio's glob hosts (`*:80`, `api-*.example.com`, `{a,b}.example.com`): hostname characters and glob syntax.
    const why = globProblem(name)
    if (why !== '') return fail(`host pattern ${why}`)
    if (!/^[a-z0-9.*?[\]{},!\\_-]+$/.test(name))
      return fail(`"${input}" is not a valid host pattern (hostname characters and * ? [ ] { } only)`)
    return ok(host)
  }
  const bare = name
  const valid =
    bare.startsWith('[') && bare.endsWith(']') ? isIPv6(bare.slice(1, -1)) : isHostname(bare) || isIPv4(bare)
  if (!valid) return fail(`"${input}" is not a valid host (hostname, *.domain, IP or [IPv6], optional :port)`)
  return ok(host)
}

function checkUrlPath(s: string): Parsed<string> {
  if (!absolutePathRe.test(s)) return fail(`must start with "/", got "${s}"`)
  if (urlPathBadRe.test(s)) return fail(`must not contain spaces, "?" or "#", got "${s}"`)
  return ok(s)
}

function checkHostHeader(s: string): Parsed<string> {
  if (s === '' || s === 'dst') return ok(s)
  const hp = parseHostPort(s, { emptyHost: false, portZero: false, defaultPort: 0 })
  return hp.ok ? ok(s) : fail(`must be "dst" or a hostname with optional :port: ${hp.reason}`)
}

function checkRedirectUrl(s: string): Parsed<string> {
  if (s === '') return fail('must not be empty')
  const probe = s.replaceAll('$path', '/').replaceAll('$host', 'example.com')
  if (probe.startsWith('/') && !probe.startsWith('//')) {
    return urlPathBadRe.test(probe.replace(/[?#].*$/, '')) ? fail(`"${s}" is not a valid path`) : ok(s)
  }
  let url: URL
  try {
    url = new URL(probe)
  } catch {
    return fail(`"${s}" is neither an absolute http(s) URL nor a path starting with "/"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return fail(`scheme must be http or https, got "${s}"`)
  return ok(s)
}

function checkLogDestination(s: string): Parsed<string> {
  if (s === 'stderr' || s === 'stdout' || absolutePathRe.test(s)) return ok(s)
  return fail(
    `must be stderr, stdout or an absolute file path, got "${s}"${didYouMean(s, ['stderr', 'stdout'])}`,
  )
}

/** A list of CIDRs (bare IPs allowed) in canonical form; undefined when the key is absent. */
function readCidrList(c: Checker, slot: Slot | undefined): string[] | undefined {
  const items = readList(c, slot)
  if (items === undefined) return undefined
  const out: string[] = []
  for (const item of items) {
    const cidr = readChecked(c, item, '', checkCidr)
    if (cidr !== undefined && cidr !== '') out.push(cidr)
  }
  return out
}

/** The same parser the proxy uses (src/net/cidr.ts), so a list that validates is one CidrSet accepts. */
function checkCidr(s: string): Parsed<string> {
  const r = parseCidr(s)
  return r.ok ? ok(r.cidr) : fail(`invalid CIDR: ${r.reason}`)
}

// ---------------------------------------------------------------------------------------------------------------
// The walker: a Checker collects problems; a Slot is one value with its dotted path.

class Checker {
  readonly problems: ConfigProblem[] = []
  /** Service names referenced before the services were read (tcp listeners), checked afterwards. */
  readonly serviceRefs: { path: string; name: string }[] = []
  /** `routes[].auth` names, checked against `http.auth` once it is read. */
  readonly authRefs: { path: string; name: string }[] = []
  readonly file: string
  readonly env: Env
  readonly files: FileContents
  constructor(file: string, env: Env, files: FileContents) {
    this.file = file
    this.env = env
    this.files = files
  }
  add(path: string, message: string): void {
    this.problems.push({ file: this.file, path, message })
  }
}

interface Slot {
  readonly path: string
  readonly value: unknown
  /** The value is the trimmed content of a `<key>_file` file: never echo it, parse numbers from it. */
  readonly fromFile: boolean
}

type Fields<K extends string> = ReadonlyMap<K, Slot>

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

function isMapping(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/**
 * Open a mapping: report unknown keys, resolve `<key>_file` into `<key>`. undefined when absent (missing or null)
 * or not a mapping (reported).
 */
function section<K extends string>(
  c: Checker,
  slot: Slot | undefined,
  keys: readonly K[],
): Fields<K> | undefined {
  if (slot === undefined || slot.value === null) return undefined
  if (!isMapping(slot.value)) {
    c.add(slot.path, `expected a mapping, got ${describe(slot)}`)
    return undefined
  }
  const known = keys as readonly string[]
  const out = new Map<K, Slot>()
  for (const [k, value] of Object.entries(slot.value)) {
    const path = join(slot.path, k)
    if (known.includes(k)) {
      out.set(k as K, { path, value, fromFile: false })
      continue
    }
    const base = k.endsWith(fileSuffix) ? k.slice(0, -fileSuffix.length) : ''
    if (base !== '' && known.includes(base)) {
      if (Object.hasOwn(slot.value, base)) {
        c.add(path, `set either ${base} or ${k}, not both`)
      } else {
        const content = readFileRef(c, { path, value, fromFile: false })
        if (content !== undefined) out.set(base as K, { path, value: content, fromFile: true })
      }
      continue
    }
    const hint = didYouMean(k, [...known, ...known.map((x) => x + fileSuffix)], known)
    c.add(path, `unknown key${hint === '' ? ` (expected one of: ${known.join(', ')})` : hint}`)
  }
  return out
}

function readFileRef(c: Checker, slot: Slot): string | undefined {
  if (typeof slot.value !== 'string') {
    c.add(slot.path, `expected a file path, got ${describe(slot)}`)
    return undefined
  }
  const ref = expand(c, slot, slot.value)
  if (ref === undefined) return undefined
  const content = c.files.get(ref.value)
  if (content === undefined) {
    c.add(slot.path, `file "${ref.value}" was not read`)
    return undefined
  }
  if (content instanceof Error) {
    c.add(slot.path, content.message)
    return undefined
  }
  return content.trim()
}

function expand(c: Checker, slot: Slot, s: string): Expanded | undefined {
  if (slot.fromFile) return { value: s, substituted: true, errors: [] }
  const r = expandVars(s, c.env)
  for (const e of r.errors) c.add(slot.path, e)
  return r.errors.length > 0 ? undefined : r
}

function required<K extends string>(c: Checker, f: Fields<K>, parent: Slot, key: K): Slot | undefined {
  const s = f.get(key)
  if (s === undefined || s.value === null) {
    c.add(join(parent.path, key), 'required')
    return undefined
  }
  return s
}

function readList(c: Checker, slot: Slot | undefined): Slot[] | undefined {
  if (slot === undefined || slot.value === null) return undefined
  if (!Array.isArray(slot.value)) {
    c.add(slot.path, `expected a list, got ${describe(slot)}`)
    return undefined
  }
  const items: unknown[] = slot.value
  return items.map((value, i) => ({ path: `${slot.path}[${i}]`, value, fromFile: false }))
}

/** A string (after `${VAR}`), or the fallback when absent; wrong types are reported and give the fallback. */
function readString(c: Checker, slot: Slot | undefined, fallback: string, secret = false): string {
  if (slot === undefined || slot.value === null) return fallback
  if (typeof slot.value !== 'string') {
    const hint = typeof slot.value === 'number' || typeof slot.value === 'boolean' ? ' (quote it)' : ''
    c.add(slot.path, `expected a string, got ${describe(slot, secret)}${hint}`)
    return fallback
  }
  return expand(c, slot, slot.value)?.value ?? fallback
}

/** A string run through a check; undefined when absent-with-problem (the problem is already reported). */
function readChecked<T>(c: Checker, slot: Slot | undefined, fallback: T, check: Check<T>): T | undefined {
  if (slot === undefined || slot.value === null) return fallback
  const before = c.problems.length
  const s = readString(c, slot, '')
  if (c.problems.length > before) return undefined
  const r = check(s)
  if (r.ok) return r.value
  c.add(slot.path, slot.fromFile ? `invalid value in ${describeFile(slot)}` : r.reason)
  return undefined
}

function readName(c: Checker, slot: Slot | undefined, fallback: string | undefined): string | undefined {
  if (slot === undefined) return fallback
  const s = readChecked(c, slot, fallback ?? '', (v) =>
    nameRe.test(v) ? ok(v) : fail(`must match [A-Za-z0-9_.-]+ (no spaces), got "${v}"`),
  )
  return s === '' ? undefined : s
}

function readHostPort(c: Checker, slot: Slot | undefined, rules: HostPortRules): HostPort | undefined {
  return readChecked<HostPort | undefined>(c, slot, undefined, (s) => parseHostPort(s, rules))
}

/** Numbers from YAML, or from strings that came through `${VAR}` or a `_file` (those are always strings). */
function readInt(c: Checker, slot: Slot | undefined, fallback: number, min: number, max: number): number {
  if (slot === undefined || slot.value === null) return fallback
  let n = typeof slot.value === 'number' ? slot.value : undefined
  if (typeof slot.value === 'string') {
    const r = expand(c, slot, slot.value)
    if (r === undefined) return fallback
    if (r.substituted) {
      if (!/^-?\d+$/.test(r.value.trim())) {
        c.add(slot.path, `expected an integer, got ${describeText(slot, r.value)}`)
        return fallback
      }
      n = Number(r.value)
    }
  }
  if (n === undefined) {
    c.add(slot.path, `expected an integer, got ${describe(slot)}`)
    return fallback
  }
  if (!Number.isInteger(n)) {
    c.add(slot.path, `expected an integer, got ${n}`)
    return fallback
  }
  if (n < min || n > max) {
    c.add(slot.path, `must be between ${min} and ${max}, got ${n}`)
    return fallback
  }
  return n
}

/** Booleans from YAML, or `true`/`false` through `${VAR}` or a `_file`. */
function readBool(c: Checker, slot: Slot | undefined, fallback: boolean): boolean {
  if (slot === undefined || slot.value === null) return fallback
  if (typeof slot.value === 'boolean') return slot.value
  if (typeof slot.value === 'string') {
    const r = expand(c, slot, slot.value)
    if (r === undefined) return fallback
    if (r.substituted && (r.value === 'true' || r.value === 'false')) return r.value === 'true'
    c.add(slot.path, `expected true or false, got ${describeText(slot, r.value)}`)
    return fallback
  }
  c.add(slot.path, `expected true or false, got ${describe(slot)}`)
  return fallback
}

function readEnum<T extends string>(c: Checker, slot: Slot | undefined, fallback: T, names: readonly T[]): T {
  if (slot === undefined || slot.value === null) return fallback
  const before = c.problems.length
  const s = readString(c, slot, fallback)
  if (c.problems.length > before) return fallback
  return checkEnum(c, slot, s, names, fallback)
}

function checkEnum<T extends string>(
  c: Checker,
  slot: Slot | undefined,
  s: string,
  names: readonly T[],
  fallback: T,
): T {
  if ((names as readonly string[]).includes(s)) return s as T
  if (slot !== undefined)
    c.add(slot.path, `must be one of ${names.join(', ')}; got "${s}"${didYouMean(s, names)}`)
  return fallback
}

function readDuration(c: Checker, slot: Slot | undefined, fallback: number, min: number): number {
  if (slot === undefined || slot.value === null) return fallback
  let v: unknown = slot.value
  if (typeof v === 'string') {
    const r = expand(c, slot, v)
    if (r === undefined) return fallback
    v = r.value
  } else if (typeof v !== 'number') {
    c.add(slot.path, `expected a duration like 10s, got ${describe(slot)}`)
    return fallback
  }
  const d = parseDuration(v)
  if (!d.ok) {
    c.add(slot.path, slot.fromFile ? `invalid duration in ${describeFile(slot)}` : d.reason)
    return fallback
  }
  if (d.ms < min) {
    c.add(slot.path, `must be at least ${formatDuration(min)}`)
    return fallback
  }
  return d.ms
}

function unique(
  c: Checker,
  seen: Map<string, string>,
  name: string,
  path: string,
  what: string,
  hint = '',
): void {
  const first = seen.get(name)
  if (first === undefined) seen.set(name, path)
  else c.add(path, `duplicate ${what} "${name}" (first at ${first})${hint}`)
}

function describe(slot: Slot, secret = false): string {
  const v = slot.value
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (isMapping(v)) return 'a mapping'
  if (slot.fromFile) return describeFile(slot)
  switch (typeof v) {
    case 'string':
      return secret ? 'a string' : describeText(slot, v)
    case 'number':
      return secret ? 'a number' : `a number (${v})`
    case 'boolean':
      return secret ? 'a boolean' : `a boolean (${v})`
    default:
      return 'an unsupported value'
  }
}

/** A string value after `${VAR}` expansion, quoted; file contents are never echoed. */
function describeText(slot: Slot, text: string): string {
  return slot.fromFile ? describeFile(slot) : `"${text.length > 40 ? text.slice(0, 40) + '…' : text}"`
}

function describeFile(slot: Slot): string {
  return `the content of ${slot.path.slice(slot.path.lastIndexOf('.') + 1)}`
}

// ---------------------------------------------------------------------------------------------------------------
// Suggestions.

/** `, did you mean "x"?` for the closest candidate (camelCase → snake_case, else Levenshtein ≤ 2), or ''. */
export function didYouMean(
  word: string,
  candidates: readonly string[],
  preferred?: readonly string[],
): string {
  const snake = word.replace(/[A-Z]/g, (ch) => '_' + ch.toLowerCase())
  if (snake !== word && candidates.includes(snake)) return `, did you mean "${snake}"?`
  let best = ''
  let bestDist = 3
  const lower = word.toLowerCase()
  for (const cand of candidates) {
    const d = levenshtein(lower, cand.toLowerCase())
    const better =
      d < bestDist || (d === bestDist && preferred?.includes(cand) === true && !preferred.includes(best))
    if (better) {
      best = cand
      bestDist = d
    }
  }
  return best === '' ? '' : `, did you mean "${best}"?`
}

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost))
    }
    prev = cur
  }
  return prev[b.length] as number
}
