/**
 * Every default of the configuration in one literal (`defaultConfig`; tests write their expectations as edits to a
 * clone of it), and the lists of valid names for the validators. Each list is the single source of its valid
 * values; the compile-time check below fails when a union of model/snapshot.ts or types.ts gains a member that a
 * list does not name.
 */
import type {
  BalanceName,
  PathMatch,
  HealthCheckSpec,
  ObserveSpec,
  ServiceHealthOptions,
} from '../model/snapshot.js'
import type {
  DeepReadonly,
  LogLevel,
  ListenerConfig,
  TcpListenerConfig,
  ServerConfig,
  ServiceConfig,
  ConsulConsistency,
  ConsulWatchMode,
  ConsulStatus,
  Config,
} from './types.js'

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

export const accessLogFormats: readonly string[] = ['json', 'httplog', 'common', 'combined']

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
    http2: { maxConcurrentStreams: 100, maxResets: 200, resetInterval: 10_000 },
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
  admin: { host: '127.0.0.1', port: 9998, token: '', allowedHosts: [], sampleInterval: 10_000 },
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

// Names of valid values, one list each (see the file's comment).

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

/** Upper bound for `workers: N` (a typo like 400 should not fork 400 processes). */
export const maxWorkers = 256

export const consulWatchModes = ['auto', 'service', 'state'] as const satisfies readonly ConsulWatchMode[]

export const consulConsistencies = [
  'default',
  'stale',
  'consistent',
] as const satisfies readonly ConsulConsistency[]

export const consulStatuses = ['passing', 'warning'] as const satisfies readonly ConsulStatus[]
