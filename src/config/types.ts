/**
 * The configuration tree: one typed object (its defaults are one literal, defaults.ts).
 * YAML keys are snake_case; this tree is the camelCase result of loading and validating them (validate.ts).
 * Durations are milliseconds. Types only.
 */
import type {
  BalanceName,
  HttpRouteSpec,
  PathMatch,
  ServerState,
  StatusRange,
  ServiceDefaults,
  ServiceHealthOptions,
  UpstreamTimeouts,
} from '../model/snapshot.js'

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T

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
  /** Terminate TLS (an HTTPS listener). Present only when set. */
  tls?: ListenerTlsConfig
  /** With `tls`: offer HTTP/2 by ALPN (`h2` before `http/1.1`); absent = on. Present only when set. */
  http2?: boolean
  /** Without `tls`: HTTP/2 with prior knowledge (h2c) next to HTTP/1.1; absent = off. Present only when set. */
  h2c?: boolean
}

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3'

/** `listeners[].tls`: the certificates (checked by the loader, read again by each worker) and the protocol. */
export interface ListenerTlsConfig {
  /** `certificates[]` then the pairs found in `directory`, in that order; the first is the default. */
  certificates: TlsCertificateConfig[]
  minVersion: TlsVersion
  maxVersion: TlsVersion
  /** OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are OpenSSL's defaults). */
  ciphers: string
  /** `client_auth`: ask clients for a certificate the CA verifies (mTLS); null = none asked. */
  clientAuth: TlsClientAuthConfig | null
  /** Header that carries the verified client certificate's subject upstream ('' = none); never taken from clients. */
  clientHeader: string
  /** ms between session ticket key changes (0 = never; src/proxy/ticket-keys.ts). */
  ticketRotation: number
  /** A server name no certificate covers (or none) fails the handshake instead of getting the first certificate. */
  strictSni: boolean
  /** `directory` as an absolute path ('' = none), watched for pairs coming and going. */
  directory: string
  /** ms between looks at the certificate files and `directory` for changes (0 = only on reload). */
  refresh: number
  /**
   * `consul_kv`: a Consul KV prefix whose `<name>-cert.pem`/`<name>-key.pem` (or `<name>.pem`) pairs are served
   * after the file certificates, watched by blocking queries (src/process/cert-kv.ts); '' = none.
   */
  consulKv: string
}

/** `listeners[].tls.client_auth`. */
export interface TlsClientAuthConfig {
  /** PEM CA certificates (`ca_file`) that verify client certificates. */
  ca: string
  /** true: no handshake without a verified certificate; false: a certificate is optional, verified when sent. */
  required: boolean
}

export interface TlsCertificateConfig {
  /** Absolute paths of the PEM files (the chain follows the leaf in `certFile`). */
  certFile: string
  keyFile: string
  /** Where it was configured (`listeners[0].tls.certificates[1]`, `listeners[0].tls.directory`), for errors. */
  source: string
  /** DNS names from the SAN (else the CN), lower-cased; `*.example.com` for wildcards. */
  names: string[]
  /** SHA-256 fingerprint of the leaf when the loader checked it: a changed file changes the config. */
  fingerprint: string
  /** The leaf's notAfter, Unix seconds. */
  notAfter: number
  /**
   * The PEM text itself, for certificates that come from no file (`consul_kv`: `certFile`/`keyFile` then name
   * the KV keys as `consul:<key>`). Absent for files, which each worker reads.
   */
  pem?: { cert: string; privateKey: string }
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
  /**
   * Route by the TLS ClientHello server name: TLS passes through untouched, or with `tls` by the server name
   * of the handshake lb terminates.
   */
  sniRoutes: SniRouteConfig[]
  timeouts: TcpTimeouts
  /** Terminate TLS and relay the plain bytes (no `client_header`). Present only when set. */
  tls?: ListenerTlsConfig
}

export interface TcpTimeouts {
  /** Client inactivity before the tunnel is up, and the bound on reading a PROXY header / ClientHello. */
  client: number
  /** Server inactivity when no tunnel timeout is set. */
  server: number
  /** Inactivity (either direction) once connected; replaces client/server (haproxy `timeout tunnel`). */
  tunnel: number
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
  /** HTTP/2 client connections (HTTPS listeners with `http2`, plain ones with `h2c`). */
  http2: Http2Config
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

/** `http.http2`: limits of one HTTP/2 client connection. */
export interface Http2Config {
  /** Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS; haproxy's default 100). */
  maxConcurrentStreams: number
  /** Streams the client may reset within `resetInterval` before the connection gets GOAWAY (rapid reset). */
  maxResets: number
  resetInterval: number
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

/** `json`, `httplog` (haproxy), or fabio's `common`, `combined` or a `$field` template (src/fabio/access-log.ts). */
export type AccessLogFormat = string

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
  /** ms between the dashboard's traffic samples (src/metrics/dashboard.ts); 15 minutes of them are kept. */
  sampleInterval: number
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

/** How instances are watched: see docs/consul.md and provider/consul/consul.ts. */
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

/** Environment variables for `${VAR}` references. */
export type Env = Readonly<Record<string, string | undefined>>

/** Contents of the files named by `<key>_file` keys, keyed by the reference as written (after `${VAR}`). */
export type FileContents = ReadonlyMap<string, string | Error>
/** Directory path (as configured, after `${VAR}`) → the names in it, or why it could not be listed. */
export type DirContents = ReadonlyMap<string, readonly string[] | Error>
