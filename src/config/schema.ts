/**
 * The configuration tree: one typed object, defaults in one literal (STYLE §8).
 * YAML keys are snake_case; this tree is the camelCase result of loading and validating them.
 * Durations are milliseconds. Pure: no I/O here (load.ts reads files and the environment).
 */
import type { BalanceName, HttpRouteSpec, ServerState } from '../snapshot.js'

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T

export type PathMatch = 'prefix' | 'segment'
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'

export interface ListenerConfig {
  /** Unique name, default `<mode>-<port>`. */
  name: string
  /** Bind host ('' = all interfaces) and port (0 = ephemeral, used by tests). */
  host: string
  port: number
  mode: 'http'
}

export interface UpstreamTimeouts {
  connect: number
  server: number
  body: number
  keepAlive: number
}

export interface ServiceDefaults {
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
}

export interface ServiceConfig {
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
  pathMatch: PathMatch
  /** Bytes of request line + headers accepted (431 above). */
  maxHeaderSize: number
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

export interface LogConfig {
  level: LogLevel
  /** 'stderr', 'stdout' or a file path. */
  destination: string
  access: {
    enabled: boolean
    destination: string
  }
}

export interface AdminConfig {
  /** '' host = loopback only is NOT implied; the default literal sets 127.0.0.1. port 0 disables the admin server. */
  host: string
  port: number
  /** Bearer token for changes; '' = changes disabled. Never logged. */
  token: string
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

export interface MutableConfig {
  /** Absolute path of the file this came from ('' when built in code). */
  file: string
  listeners: ListenerConfig[]
  defaults: ServiceDefaults
  services: ServiceConfig[]
  routes: RouteConfig[]
  http: HttpConfig
  log: LogConfig
  admin: AdminConfig
  resolver: ResolverConfig
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
  },
  services: [],
  routes: [],
  http: {
    trustedProxies: [],
    requestIdHeader: '',
    pathMatch: 'prefix',
    maxHeaderSize: 16_384,
    timeouts: { httpRequest: 10_000, client: 60_000, keepAlive: 5_000, tunnel: 3_600_000 },
  },
  log: { level: 'info', destination: 'stderr', access: { enabled: true, destination: 'stdout' } },
  admin: { host: '127.0.0.1', port: 9998, token: '' },
  resolver: { maxTtl: 30_000, minTtl: 1_000, retry: 5_000, cacheSize: 1_024 },
}
